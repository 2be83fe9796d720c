"""Connector options, checked before anything runs.

A destination declares the model of its pipeline `destination.options` as `options_model` (derive it from
`Options`: unknown keys refused, `Literal` choices, bounded numbers, Decimal amounts). `load_pipeline` checks
the options with it, so every command and the console refuse a typo before a record is staged, listing every
wrong key and value with its path and a did-you-mean. The model's JSON Schema is the connector spec's
`optionsSpecification`, from which a form can be generated.
"""

from .check import OptionsError, check_options, check_pipeline_options, options_model_of, options_schema
from .explain import OptionProblem, allowed_keys, allowed_values, did_you_mean, explain
from .model import Options, Percent, Rate, decimal_text

__all__ = ["Options", "Rate", "Percent", "decimal_text", "OptionsError", "OptionProblem", "check_options",
           "check_pipeline_options", "options_model_of", "options_schema", "explain", "did_you_mean",
           "allowed_keys", "allowed_values"]
