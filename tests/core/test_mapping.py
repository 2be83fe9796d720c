"""MappingEngine: safe JSON/XML output, filters, sandboxing, caching and errors that say where."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from ledgerlink import MappingEngine, MappingError, Money
from ledgerlink.mapping import raw


@pytest.fixture
def engine() -> MappingEngine:
    return MappingEngine()


def render(engine: MappingEngine, source: str, /, **variables):
    engine.add("t.json.j2", source)
    return engine.render("t.json.j2", **variables)


# ------------------------------------------------------------------------------------------- JSON output


def test_json_emits_exact_decimals_and_money(engine):
    out = render(engine, '{"total": {{ total }}, "tax": {{ tax }}, "qty": {{ qty }}}',
                 total=Decimal("12345678901234.10"), tax=Money.of("2.345", "USD"), qty=3)
    assert out == {"total": Decimal("12345678901234.10"), "tax": Decimal("2.35"), "qty": 3}
    assert isinstance(out["total"], Decimal)


def test_json_render_text_writes_numbers_not_strings(engine):
    engine.add("t.json.j2", '{"a": {{ a }}, "m": {{ m }}, "jpy": {{ jpy }}}')
    text = engine.render_text("t.json.j2", a=Decimal("0.10"), m=Money.of("5", "USD"), jpy=Money.of("1234.5", "JPY"))
    assert text == '{"a": 0.10, "m": 5.00, "jpy": 1235}'


@pytest.mark.parametrize("value", [
    'He said "hi"',
    'line one\nline two\r\ttabbed',
    "Zoë — 東京 🚚",
    'back\\slash',
    '"}, "x": 1, "y": {"',
    "</script><!--",
])
def test_json_strings_are_quoted_and_escaped(engine, value):
    out = render(engine, '{"name": {{ name }}, "after": 1}', name=value)
    assert out == {"name": value, "after": 1}


def test_a_value_cannot_inject_keys_into_the_payload(engine):
    out = render(engine, '{"memo": {{ memo }}, "amount": {{ amount }}}', memo='"}, "amount": 999999, "x": {"',
                 amount=Decimal("1.00"))
    assert set(out) == {"memo", "amount"}
    assert out["amount"] == Decimal("1.00")


def test_json_none_becomes_null_and_bools_are_json(engine):
    assert render(engine, '[{{ a }}, {{ b }}, {{ c }}]', a=None, b=True, c=False) == [None, True, False]


def test_json_dates_lists_and_dicts_are_literals(engine):
    out = render(engine, '{"d": {{ d }}, "dt": {{ dt }}, "tags": {{ tags }}, "obj": {{ obj }}}',
                 d=date(2024, 3, 1), dt=datetime(2024, 3, 1, 12, tzinfo=timezone.utc), tags=["a", 'b"c'],
                 obj={"k": Decimal("1.5")})
    assert out == {"d": "2024-03-01", "dt": "2024-03-01T12:00:00+00:00", "tags": ["a", 'b"c'],
                   "obj": {"k": Decimal("1.5")}}


def test_json_refuses_floats(engine):
    engine.add("t.json.j2", '{"a": {{ a }}}')
    with pytest.raises(MappingError, match="float"):
        engine.render("t.json.j2", a=0.1)


def test_raw_output_is_not_quoted(engine):
    assert render(engine, '{"a": {{ raw(frag) }}}', frag='{"pre": "built"}') == {"a": {"pre": "built"}}


def test_loop_commas_are_template_text(engine):
    source = '[{% for l in lines %}{"sku": {{ l.sku }}, "amt": {{ l.amt }}}{% if not loop.last %},{% endif %}{% endfor %}]'
    out = render(engine, source, lines=[{"sku": "A", "amt": Decimal("1.10")}, {"sku": 'B"', "amt": Decimal("2")}])
    assert out == [{"sku": "A", "amt": Decimal("1.10")}, {"sku": 'B"', "amt": 2}]


def test_a_variable_may_be_called_name(engine):
    assert render(engine, '{"n": {{ name }}}', name="Acme") == {"n": "Acme"}


# -------------------------------------------------------------------------------------------- XML output


def test_xml_escapes_markup_characters(engine):
    engine.add("t.xml.j2", "<Customer name='{{ name }}' ref=\"{{ name }}\"><Memo>{{ memo }}</Memo></Customer>")
    text = engine.render("t.xml.j2", name="O'Brien & \"Sons\" <Ltd>", memo="a < b && c > d")
    assert "<Ltd>" not in text and "&&" not in text
    root = ET.fromstring(text)
    assert root.get("name") == "O'Brien & \"Sons\" <Ltd>" == root.get("ref")
    assert root.find("Memo").text == "a < b && c > d"


def test_xml_writes_money_decimals_and_none(engine):
    engine.add("t.xml.j2", "<A><Amt>{{ m }}</Amt><D>{{ d }}</D><N>{{ n }}</N><B>{{ b }}</B></A>")
    assert engine.render("t.xml.j2", m=Money.of("1234.5", "JPY"), d=Decimal("0.10"), n=None, b=True) == \
        "<A><Amt>1235</Amt><D>0.10</D><N></N><B>true</B></A>"


def test_xml_refuses_floats(engine):
    engine.add("t.xml.j2", "<A>{{ a }}</A>")
    with pytest.raises(MappingError, match="float"):
        engine.render("t.xml.j2", a=1.5)


# ----------------------------------------------------------------------------------------------- filters


def test_money_filter_rounds_to_the_currency(engine):
    out = render(engine, '[{{ a | money }}, {{ b | money("JPY") }}, {{ c | money }}, {{ "1,234.565" | money }}]',
                 a=Money.of("2.345", "USD"), b=Decimal("99.5"), c="-0.005")
    assert out == [Decimal("2.35"), Decimal("100"), Decimal("-0.01"), Decimal("1234.57")]


def test_amount_filter_reads_money_and_treats_missing_as_zero(engine):
    assert render(engine, "[{{ a | amount }}, {{ n | amount }}]", a=Money.of("3.10", "EUR"), n=None) == \
        [Decimal("3.10"), Decimal("0")]


def test_date_filter_uses_the_time_zone(engine):
    # 23:30 UTC on the 1st is already the 2nd in Sydney (UTC+11 in March).
    source = '[{{ t | date }}, {{ t | date("Australia/Sydney") }}, {{ s | date("Australia/Sydney") }}, {{ d | date }}]'
    out = render(engine, source, t=datetime(2024, 3, 1, 23, 30, tzinfo=timezone.utc), s="2024-03-01T23:30:00Z",
                 d=date(2024, 3, 1))
    assert out == ["2024-03-01", "2024-03-02", "2024-03-02", "2024-03-01"]


def test_date_filter_treats_naive_times_as_utc(engine):
    assert render(engine, '{{ t | date("America/Los_Angeles") }}', t=datetime(2024, 3, 1, 3, 0)) == "2024-02-29"


def test_datetime_filter_converts_zones(engine):
    assert render(engine, '{{ s | datetime("Asia/Tokyo") }}', s="2024-03-01T23:30:00Z") == "2024-03-02T08:30:00+09:00"


def test_truncate_to_cuts_to_a_field_limit(engine):
    out = render(engine, '[{{ s | truncate_to(11) }}, {{ s | truncate_to(8, "…") }}, {{ short | truncate_to(11) }},'
                         ' {{ n | truncate_to(3) }}, {{ num | truncate_to(3) }}]',
                 s="AMZ-123-4567890", short="A-1", n=None, num=123456)
    assert out == ["AMZ-123-456", "AMZ-123…", "A-1", None, "123"]


def test_neg_filter_negates_money_and_numbers(engine):
    assert render(engine, "[{{ m | neg }}, {{ d | neg }}, {{ '5.10' | neg }}]", m=Money.of("1.50", "USD"),
                  d=Decimal("-2")) == [Decimal("-1.50"), Decimal("2"), Decimal("-5.10")]


def test_decimal_filter_parses_text(engine):
    assert render(engine, '{{ "12,34" | decimal }}') == Decimal("12.34")


def test_plugin_filters_tests_and_globals_come_through_extensions():
    engine = MappingEngine(extensions=[
        ("shout", lambda s: s.upper() + "!", "filter"),
        ("even", lambda n: n % 2 == 0, "test"),
        ("company", "Acme Ltd", "global"),
    ])
    out = render(engine, '[{{ "hi" | shout }}, {{ 4 is even }}, {{ 3 is even }}, {{ company }}]')
    assert out == ["HI!", True, False, "Acme Ltd"]


def test_lookup_global_reads_reference_tables():
    engine = MappingEngine(lookup=lambda table, key: {"accounts": {"sales": "41"}}[table][key])
    assert render(engine, '{"AccountRef": {{ lookup("accounts", "sales") }}}') == {"AccountRef": "41"}


def test_lookup_without_tables_is_a_clear_mapping_error(engine):
    engine.add("t.json.j2", '{{ lookup("accounts", "sales") }}')
    with pytest.raises(MappingError, match="no reference tables"):
        engine.render("t.json.j2")


# ------------------------------------------------------------------------------------------------ errors


def test_syntax_error_names_the_template_and_line(engine):
    engine.add("orders/receipt.json.j2", '{\n  "a": 1,\n  "b": {{ x }\n}')
    with pytest.raises(MappingError) as info:
        engine.render("orders/receipt.json.j2", x=1)
    err = info.value
    assert err.template == "orders/receipt.json.j2" and err.line == 3
    assert "orders/receipt.json.j2, line 3" in str(err)


def test_unknown_filter_is_reported_at_compile_time_with_its_line(engine):
    engine.add("t.json.j2", '{\n"a": {{ x | no_such_filter }}\n}')
    with pytest.raises(MappingError, match="no_such_filter") as info:
        engine.template("t.json.j2")
    assert info.value.line == 2


def test_undefined_variable_names_template_line_and_record(engine):
    engine.add("receipt.json.j2", '{\n  "a": 1,\n\n  "b": {{ order.missing_field }}\n}\n')
    with pytest.raises(MappingError) as info:
        engine.render("receipt.json.j2", record_key="amazon:111-222", order={"id": 1})
    err = info.value
    assert (err.template, err.line, err.key) == ("receipt.json.j2", 4, "amazon:111-222")
    assert "missing_field" in str(err) and "amazon:111-222" in str(err) and "line 4" in str(err)
    assert err.to_dict()["line"] == 4


def test_a_raising_filter_reports_the_template_line_not_the_filter_source(engine):
    engine.add("t.json.j2", '{\n  "ok": {{ a | money }},\n  "bad": {{ b | money }}\n}')
    with pytest.raises(MappingError) as info:
        engine.render("t.json.j2", record_key="k1", a="1.00", b="not money")
    assert info.value.line == 3 and "not money" in str(info.value)


def test_error_inside_a_loop_reports_the_loop_body_line(engine):
    source = '[\n{% for l in lines %}\n  {{ l.amt | money }}{% if not loop.last %},{% endif %}\n{% endfor %}\n]'
    engine.add("t.json.j2", source)
    with pytest.raises(MappingError) as info:
        engine.render("t.json.j2", lines=[{"amt": "1"}, {"amt": 2.5}])
    assert info.value.line == 3 and "float" in str(info.value)


def test_error_in_an_included_template_names_it(engine):
    engine.add("outer.json.j2", '{\n  "x": 1,\n{% include "inner.json.j2" %}\n}')
    engine.add("inner.json.j2", '\n  "y": {{ nope }}\n')
    with pytest.raises(MappingError) as info:
        engine.render("outer.json.j2", record_key="k")
    assert info.value.template == "outer.json.j2" and info.value.line == 3
    assert "inner.json.j2, line 2" in str(info.value)


def test_invalid_json_output_is_a_helpful_mapping_error(engine):
    engine.add("t.json.j2", '{\n  "a": {{ a }}\n  "b": 2\n}')
    with pytest.raises(MappingError) as info:
        engine.render("t.json.j2", record_key="k9", a=1)
    err = info.value
    assert "not valid JSON" in str(err) and err.key == "k9" and err.template == "t.json.j2"
    assert '"b": 2' in err.hint and "line 3" in err.hint


def test_unknown_template_lists_the_known_ones(engine):
    engine.add("a.json.j2", "{}")
    with pytest.raises(MappingError, match="no such mapping") as info:
        engine.render("b.json.j2")
    assert "a.json.j2" in info.value.hint


def test_error_messages_mask_secrets(engine, isolated_secrets):
    isolated_secrets.register_secret("sk_live_SECRET")
    engine.add("t.json.j2", "{{ x | money }}")
    with pytest.raises(MappingError) as info:
        engine.render("t.json.j2", x="sk_live_SECRET")
    assert "sk_live_SECRET" not in str(info.value)


# --------------------------------------------------------------------------------------------- sandbox


@pytest.mark.parametrize("expression", [
    "''.__class__.__mro__",
    "x.__class__.__subclasses__()",
    "x.__init__.__globals__",
    "lines.append(1)",
    "d.update({'a': 1})",
    "d.pop('k')",
])
def test_the_sandbox_blocks_unsafe_access_and_mutation(engine, expression):
    engine.add("t.json.j2", "{{ " + expression + " }}")
    with pytest.raises(MappingError) as info:
        engine.render("t.json.j2", x=Decimal(1), lines=[], d={"k": 1})
    assert "unsafe" in str(info.value) or "SecurityError" in str(info.value)


# ---------------------------------------------------------------------------------------------- caching


def test_templates_are_compiled_once(engine, monkeypatch):
    engine.add("t.json.j2", '{"a": {{ a }}}')
    env = engine._env("json")
    compiled = []
    original = env.compile
    monkeypatch.setattr(env, "compile", lambda *a, **k: compiled.append(a[1] if len(a) > 1 else k.get("name"))
                        or original(*a, **k))
    assert engine.render("t.json.j2", a=1) == {"a": 1}
    assert engine.render("t.json.j2", a=2) == {"a": 2}
    assert compiled == ["t.json.j2"]


def test_replacing_a_template_takes_effect(engine):
    engine.add("t.json.j2", '{"v": 1}')
    assert engine.render("t.json.j2") == {"v": 1}
    engine.add("t.json.j2", '{"v": 2}')
    assert engine.render("t.json.j2") == {"v": 2}


def test_replacing_an_included_template_takes_effect(engine):
    engine.add("outer.json.j2", '{% include "inner.json.j2" %}')
    engine.add("inner.json.j2", '{"v": 1}')
    assert engine.render("outer.json.j2") == {"v": 1}
    engine.add("inner.json.j2", '{"v": 2}')
    assert engine.render("outer.json.j2") == {"v": 2}


def test_templates_from_files(tmp_path, engine):
    path = tmp_path / "receipt.json.j2"
    path.write_text('{"doc": {{ doc | truncate_to(5) }}}')
    engine.add_file("receipt.json.j2", path)
    assert engine.render("receipt.json.j2", doc="ABCDEFG") == {"doc": "ABCDE"}
    assert engine.names() == ["receipt.json.j2"]
    assert "truncate_to" in engine.source("receipt.json.j2")


def test_rendered_json_parses_with_the_stdlib_too(engine):
    engine.add("t.json.j2", '{"s": {{ s }}, "n": {{ n }}}')
    text = engine.render_text("t.json.j2", s='a"b\u2028c', n=Decimal("1.25"))
    assert json.loads(text) == {"s": 'a"b\u2028c', "n": 1.25}


def test_raw_marks_text_as_already_escaped():
    assert str(raw("<b>")) == "<b>"
