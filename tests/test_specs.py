"""specs/ is generated from the code; this fails when the checked-in copy is stale."""

from __future__ import annotations

from ledgerlink.specgen import render_specs


def test_specs_are_up_to_date(repo_root):
    expected = render_specs()
    specs = repo_root / "specs"
    stale = [rel for rel, content in expected.items()
             if not (specs / rel).exists() or (specs / rel).read_text() != content]
    extra = [str(p.relative_to(specs)) for p in specs.rglob("*") if p.is_file()
             and str(p.relative_to(specs)) not in expected]
    assert not stale and not extra, (
        f"specs/ is stale (run `ledgerlink specs`): changed {stale}, no longer generated {extra}")


def test_specs_cover_every_builtin_connector_and_the_protocol():
    files = render_specs()
    assert "schemas/protocol/AirbyteMessage.json" in files
    assert "schemas/commerce/order.json" in files
    assert "pipelines/amazon-to-qbo.yaml" in files
