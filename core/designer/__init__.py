"""The pipeline designer: pipelines built and mapped from forms in the console, saved as the same diffable YAML a
developer writes by hand. Forms come from each connector's JSON Schema spec (a third party's plugin gets one for
free), pick-lists from the ledger's own lists, suggestions from `ledgerlink.suggest`; a mapping template is
previewed on staged records before it is saved; nothing is saved half-way."""

from __future__ import annotations

from .actions import SECTIONS, Outcome, change_pipeline, create_pipeline, decide_suggestion
from .create import connector_choices, connector_schema
from .forms import FormField, FormProblem, form_fields, read_form
from .ledger import LedgerLists, read_ledger_lists
from .pipeline_file import edit_pipeline_text, new_pipeline_text, pipeline_diff, save_pipeline
from .preview import PreviewResult, preview_template, staged_records, template_source
from .view import DesignerView, designer_view

__all__ = ["SECTIONS", "Outcome", "change_pipeline", "create_pipeline", "decide_suggestion", "connector_choices",
           "connector_schema", "FormField", "FormProblem", "form_fields", "read_form", "LedgerLists",
           "read_ledger_lists", "edit_pipeline_text", "new_pipeline_text", "pipeline_diff", "save_pipeline",
           "PreviewResult", "preview_template", "staged_records", "template_source", "DesignerView",
           "designer_view"]
