"""REFI-QDA (.qdpx) export/import and the CSV/.xlsx code exports, on real files read back independently."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook

from clwstwr.code_exports import COLUMNS, CodeExportRow, write_codes_csv, write_codes_xlsx
from clwstwr.refi_qda import (
    BUNDLED_SCHEMA,
    QdaCode,
    QdaCoding,
    QdaProject,
    QdaSource,
    QdaUser,
    QdpxError,
    codes_from_codebook,
    selection_for,
    write_qdpx,
)
from clwstwr.refi_qda_import import read_qdpx
from corpora.codebook import Codebook

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "refi-qda"
SHARED_SCHEMA = SHARED / "Project-mrt2019.xsd"
ATLAS_SAMPLE = SHARED / "sample-atlas-project.qdpx"
AT = datetime(2024, 5, 14, 9, 30, tzinfo=timezone.utc)

TEXTS = {
    "a1": "Diffyg amser & arian < angen. Cyllid tymor byr yw'r broblem fwyaf i'r clwstwr.",
    "a2": "Mae'r bwrdd iechyd yn araf: mae pob cais yn mynd drwy dri phwyllgor. Ŵyr neb pwy sy'n penderfynu.",
    "a3": "Strong leadership from the cluster lead & a practice manager who knows everyone (Llŷn).",
}


def _project(codebook: Codebook) -> QdaProject:
    """Three coders, two questions' themes, evidence spans and whole answers, memos with markup."""
    sources = (
        QdaSource("a1", "Clwstwr Môn — barriers", TEXTS["a1"], "Clwstwr Môn", "Betsi Cadwaladr", "barriers"),
        QdaSource("a2", "Cwm Taf North — barriers", TEXTS["a2"], "Cwm Taf North", "Cwm Taf Morgannwg", "barriers"),
        QdaSource("a3", "Dwyfor — enablers", TEXTS["a3"], "Dwyfor", "Betsi Cadwaladr", "enablers"),
    )
    first_a1 = selection_for(TEXTS["a1"], "Diffyg amser & arian < angen.")
    second_a1 = selection_for(TEXTS["a1"], "Cyllid tymor byr yw'r broblem fwyaf i'r clwstwr.")
    whole_a2 = selection_for(TEXTS["a2"], None)
    lead_a3 = selection_for(TEXTS["a3"], "Strong leadership from the cluster lead")
    codings = (
        QdaCoding("a1", "time", "alys", *first_a1, memo="Amser & arian: both <really>", at=AT),
        QdaCoding("a1", "funding", "alys", *first_a1, at=AT),
        QdaCoding("a1", "funding", "bryn", *second_a1, at=AT),
        QdaCoding("a1", "funding", "ceri", *second_a1),
        QdaCoding("a2", "bureaucracy", "alys", *whole_a2, at=AT),
        QdaCoding("a2", "bureaucracy", "bryn", *whole_a2, memo="pwyllgor = committee", at=AT),
        QdaCoding("a2", "clarity", "ceri", *whole_a2, at=AT),
        QdaCoding("a3", "leadership", "ceri", *lead_a3, at=AT),
        QdaCoding("a3", "individuals", "bryn", *selection_for(TEXTS["a3"], None), at=AT),
    )
    return QdaProject(
        name="Hunanfyfyrio 2024 & peer review",
        users=(QdaUser("alys", "Alys Ŵen"), QdaUser("bryn", "Bryn O'Neill"), QdaUser("ceri", "Ceri <lead>")),
        codes=codes_from_codebook(codebook, ["barriers", "enablers"]),
        sources=sources,
        codings=codings,
        created=AT,
    )


def _qde(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read("project.qde")


def _valid(qde: bytes, schema: Path) -> list[str]:
    xsd = etree.XMLSchema(etree.parse(str(schema)))
    ok = xsd.validate(etree.fromstring(qde))
    return [] if ok else [str(e) for e in xsd.error_log]


def _zip(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


# --------------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------------


def test_refi_qda_export_validates_against_the_bundled_and_the_published_schema(codebook: Codebook, tmp_path: Path) -> None:
    out = write_qdpx(_project(codebook), tmp_path / "round.qdpx")
    qde = _qde(out)
    assert _valid(qde, BUNDLED_SCHEMA) == []
    if not SHARED_SCHEMA.exists():
        pytest.skip(f"{SHARED_SCHEMA} absent: validated against the bundled copy only")
    assert _valid(qde, SHARED_SCHEMA) == []
    assert hashlib.sha256(BUNDLED_SCHEMA.read_bytes()).digest() == hashlib.sha256(SHARED_SCHEMA.read_bytes()).digest()


def test_refi_qda_export_lays_out_a_project_as_the_tools_expect(codebook: Codebook, tmp_path: Path) -> None:
    project = _project(codebook)
    out = write_qdpx(project, tmp_path / "round.qdpx")
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        root = etree.fromstring(zf.read("project.qde"))
        ns = {"q": "urn:QDA-XML:project:1.0"}
        paths = root.xpath("//q:TextSource/@plainTextPath", namespaces=ns)
        assert len(paths) == 3 and all(p.startswith("internal://") and p.endswith(".txt") for p in paths)
        for source, text_path in zip(project.sources, paths):
            assert zf.read("Sources/" + text_path.removeprefix("internal://")).decode("utf-8") == source.text
    assert names[0] == "project.qde" and len(names) == 4
    # questions are non-codable parents, themes codable children
    groups = root.xpath("/q:Project/q:CodeBook/q:Codes/q:Code", namespaces=ns)
    assert [g.get("name") for g in groups] == ["Barriers to cluster working", "Enablers to cluster working"]
    assert {g.get("isCodable") for g in groups} == {"false"}
    assert "Funding" in [c.get("name") for c in groups[0].xpath("q:Code", namespaces=ns)]
    # one Coding per (coder, theme, selection), each saying who made it
    codings = root.xpath("//q:PlainTextSelection/q:Coding", namespaces=ns)
    assert len(codings) == len(project.codings) and all(c.get("creatingUser") for c in codings)
    assert root.xpath("//q:Coding/@creationDateTime", namespaces=ns)[0] == "2024-05-14T09:30:00Z"
    # the same span coded by two coders is one selection
    spans = root.xpath("//q:PlainTextSelection", namespaces=ns)
    assert len(spans) == len({(c.source_id, c.start, c.end) for c in project.codings})
    # one case per cluster with its board; every source carries cluster, board and question
    cases = root.xpath("//q:Case/@name", namespaces=ns)
    assert cases == ["Clwstwr Môn", "Cwm Taf North", "Dwyfor"]
    assert root.xpath("//q:Variable/@name", namespaces=ns) == ["cluster", "health board", "question"]
    assert root.xpath("count(//q:TextSource/q:VariableValue)", namespaces=ns) == 9


def test_refi_qda_same_project_gives_byte_identical_files(codebook: Codebook, tmp_path: Path) -> None:
    first = write_qdpx(_project(codebook), tmp_path / "one.qdpx")
    second = write_qdpx(_project(codebook), tmp_path / "two.qdpx")
    assert _qde(first) == _qde(second)
    assert first.read_bytes() == second.read_bytes()
    changed = _project(codebook)
    changed = QdaProject(changed.name, changed.users, changed.codes, changed.sources, changed.codings[:-1], changed.created)
    assert _qde(write_qdpx(changed, tmp_path / "three.qdpx")) != _qde(first)


def test_refi_qda_round_trip_gives_back_codes_sources_coders_and_quotes(codebook: Codebook, tmp_path: Path) -> None:
    project = _project(codebook)
    back = read_qdpx(write_qdpx(project, tmp_path / "round.qdpx"))
    assert back.name == project.name
    assert back.codes == project.codes
    assert back.sources == project.sources
    assert back.users == project.users
    assert back.created == AT
    assert back.warnings == ()
    before = {(c.source_id, c.code_id, c.coder, c.start, c.end, c.memo, c.at) for c in project.codings}
    after = {(c.source_id, c.code_id, c.coder, c.start, c.end, c.memo, c.at) for c in back.codings}
    assert after == before
    quotes_before = sorted((c.code_id, c.coder, project.quote(c)) for c in project.codings)
    quotes_after = sorted((c.code_id, c.coder, back.quote(c)) for c in back.codings)
    assert quotes_after == quotes_before
    assert ("time", "alys", "Diffyg amser & arian < angen.") in quotes_after


def test_refi_qda_writer_refuses_a_project_the_tools_would_misread(codebook: Codebook, tmp_path: Path) -> None:
    good = _project(codebook)
    bad = QdaProject(good.name, good.users, good.codes, good.sources,
                     (*good.codings, QdaCoding("a9", "funding", "dafydd", 0, 4), QdaCoding("a1", "barriers", "alys", 0, 4),
                      QdaCoding("a1", "funding", "alys", 10, 999)))
    with pytest.raises(QdpxError) as caught:
        write_qdpx(bad, tmp_path / "bad.qdpx")
    message = str(caught.value)
    assert caught.value.code == "CW800"
    assert "source 'a9'" in message and "coder 'dafydd'" in message
    assert "'barriers' is a group" in message and "10..999" in message
    assert not (tmp_path / "bad.qdpx").exists()


def test_refi_qda_schema_errors_in_the_written_document_are_listed(codebook: Codebook, tmp_path: Path) -> None:
    good = _project(codebook)
    red = tuple(QdaCode(c.id, c.label, c.description, c.parent, c.codable, "red") if c.id == "funding" else c for c in good.codes)
    target = tmp_path / "colour.qdpx"
    target.write_bytes(b"previous export")
    with pytest.raises(QdpxError) as caught:
        write_qdpx(QdaProject(good.name, good.users, red, good.sources, good.codings), target)
    assert "REFI-QDA project schema" in str(caught.value) and "color" in str(caught.value)
    assert target.read_bytes() == b"previous export"  # a failed export leaves the old file alone
    assert [p.name for p in tmp_path.iterdir()] == ["colour.qdpx"]


def test_refi_qda_selection_is_the_evidence_sentence_or_the_whole_answer() -> None:
    text = TEXTS["a2"]
    start, end = selection_for(text, "Ŵyr neb pwy sy'n penderfynu.")
    assert text[start:end] == "Ŵyr neb pwy sy'n penderfynu."
    assert selection_for(text, "ŵyr NEB pwy sy'n penderfynu.") == (start, end)
    assert selection_for(text, "not in the answer") == (0, len(text))
    assert selection_for(text, "") == (0, len(text))


# --------------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------------


def test_refi_qda_imports_the_atlas_ti_sample(tmp_path: Path) -> None:
    if not ATLAS_SAMPLE.exists():
        pytest.skip(f"{ATLAS_SAMPLE} absent")
    project = read_qdpx(ATLAS_SAMPLE)
    assert project.name == "target-atlas-project"
    assert [u.name for u in project.users] == ["Enric Llagostera", "ATLAS.ti"]
    labels = {c.label: c for c in project.codes}
    assert set(labels) == {"Commits", "2022-05-10T02:05:59Z 19e4dce", "2022-02-11T10:39:25Z cdbfd92"}
    assert labels["2022-05-10T02:05:59Z 19e4dce"].parent == labels["Commits"].id
    assert all(c.codable for c in project.codes)
    # The sample holds a codebook only (no sources, so no codings): every quote there is must still be
    # a substring of its source, and the other-tool test below covers codings in ATLAS.ti's layout.
    assert project.sources == () and project.codings == ()
    for coding in project.codings:
        assert project.quote(coding) in project.source(coding.source_id).text


OTHER_TOOL_QDE = """<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<Project xmlns="urn:QDA-XML:project:1.0" origin="SomeTool 9" name="Cyfweliadau" basePath="C:/PROJECT/Sources"
  creationDateTime="2023-03-27T17:46:39Z">
  <CodeBook><Codes>
    <Code guid="{5215CC69-B628-4E02-AFB9-9BEEAEE55808}" name="Topics" isCodable="false">
      <Code guid="D7AA29DA-519B-4946-9B90-253B6DB8FD0A" name="Economy" isCodable="true" color="#FFFF00">
        <Description>jobs &amp; taxes</Description>
        <Code guid="0DCEF2F5-E55C-49DA-8C33-9B0803C7AEB4" name="Arian" isCodable="1"/>
      </Code>
    </Code>
  </Codes></CodeBook>
  <Variables><Variable guid="11111111-2222-3333-4444-555555555555" name="Health Board" typeOfVariable="Text"/></Variables>
  <Cases><Case guid="66666666-2222-3333-4444-555555555555" name="Mabel">
    <VariableValue><VariableRef targetGUID="11111111-2222-3333-4444-555555555555"/><TextValue>Hywel Dda</TextValue></VariableValue>
    <SourceRef targetGUID="69A4332D-5B31-4915-B520-5275CFC21B40"/>
  </Case></Cases>
  <Sources>
    <TextSource guid="69A4332D-5B31-4915-B520-5275CFC21B40" name="Interview Mabel.docx"
       plainTextPath="internal://01106019-2518-43DD-BBD1-8F0252BACB30.txt" richTextPath="internal://B5566006.docx">
      <PlainTextSelection guid="4191294A-E287-4510-9D49-9C3A2B8D36B6" startPosition="10" endPosition="25"
         creatingUser="AD68FBE7-E1EE-4A82-A279-23CC698C89EB">
        <Coding guid="04EBEC7D-EAB4-43FC-8167-ADB14F921143" creationDateTime="2018-03-27T19:36:01Z">
          <CodeRef targetGUID="{0dcef2f5-e55c-49da-8c33-9b0803c7aeb4}"/>
        </Coding>
        <NoteRef targetGUID="E41BE463-FDF3-4ED0-B668-119C53D8D687"/>
      </PlainTextSelection>
    </TextSource>
    <TextSource guid="17FB9CB8-7858-4291-A162-65424B9942EC" name="Notes" plainTextPath="relative:///AR/notes.txt">
      <Coding guid="2F24EA88-C6A7-482B-9B57-CF57A5BD2B0F"><CodeRef targetGUID="D7AA29DA-519B-4946-9B90-253B6DB8FD0A"/></Coding>
    </TextSource>
    <TextSource guid="AE5298BE-7C94-4B66-8A9C-51FBE232D2F5" name="Inline">
      <PlainTextContent>Short &amp; sweet</PlainTextContent>
      <PlainTextSelection guid="63E009F1-5C33-4568-8E8C-4D1C0E1C9C1A" startPosition="0" endPosition="5">
        <Coding guid="789A62D6-A2AD-4B59-9F1B-7C6C3D2E1F00"><CodeRef targetGUID="D7AA29DA-519B-4946-9B90-253B6DB8FD0A"/></Coding>
      </PlainTextSelection>
    </TextSource>
    <VideoSource guid="876DCA5E-0703-4E92-952C-3DCFF3E8461F" name="Robert Interview" path="internal://0616fddd.mp4"/>
  </Sources>
  <Notes><Note guid="E41BE463-FDF3-4ED0-B668-119C53D8D687" name="memo"><PlainTextContent>Arian = money</PlainTextContent></Note></Notes>
</Project>
"""


def test_refi_qda_imports_what_other_tools_write(tmp_path: Path) -> None:
    mabel = "Dywedodd: 'Mae’r arian yn brin' & more."
    path = _zip(tmp_path / "other.qdpx", {
        "project.qde": OTHER_TOOL_QDE,
        "sources/01106019-2518-43DD-BBD1-8F0252BACB30.txt": "\ufeff" + mabel,  # BOM, lower-case folder
        "Sources/notes.txt": "Nodiadau ar yr economi.",
    })
    project = read_qdpx(path)
    by_label = {c.label: c for c in project.codes}
    assert by_label["Arian"].parent == by_label["Economy"].id and by_label["Economy"].parent == by_label["Topics"].id
    assert not by_label["Topics"].codable and by_label["Arian"].codable
    assert by_label["Economy"].description == "jobs & taxes"
    assert [s.name for s in project.sources] == ["Interview Mabel.docx", "Notes", "Inline"]
    assert project.sources[0].health_board == "Hywel Dda"
    quotes = {(project.code(c.code_id).label, project.quote(c)) for c in project.codings}
    assert quotes == {("Arian", "'Mae’r arian yn"), ("Economy", "Nodiadau ar yr economi."), ("Economy", "Short")}
    for coding in project.codings:
        assert project.quote(coding) in project.source(coding.source_id).text
    arian = next(c for c in project.codings if project.code(c.code_id).label == "Arian")
    assert arian.memo == "Arian = money"  # a memo on the selection belongs to its codings
    assert arian.at == datetime(2018, 3, 27, 19, 36, 1, tzinfo=timezone.utc)
    assert "user ad68fbe7-e1ee-4a82-a279-23cc698c89eb" in [u.name for u in project.users]
    assert any("video source 'Robert Interview'" in w for w in project.warnings)


def test_refi_qda_import_refuses_a_file_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "round.qdpx"
    path.write_text("answer_id,theme\n1,funding\n", encoding="utf-8")
    with pytest.raises(QdpxError, match=r"round\.qdpx: not a REFI-QDA project: a \.qdpx file is a zip archive") as caught:
        read_qdpx(path)
    assert caught.value.code == "CW800"
    with pytest.raises(QdpxError, match="no such file"):
        read_qdpx(tmp_path / "missing.qdpx")


def test_refi_qda_import_refuses_a_zip_without_project_qde(tmp_path: Path) -> None:
    path = _zip(tmp_path / "empty.qdpx", {"Sources/a.txt": "text", "readme.md": "hello"})
    with pytest.raises(QdpxError, match=r"empty\.qdpx: no project\.qde in the archive \(it holds Sources/a\.txt, readme\.md\)"):
        read_qdpx(path)


def test_refi_qda_import_lists_schema_violations(tmp_path: Path) -> None:
    qde = """<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="urn:QDA-XML:project:1.0">
  <CodeBook><Codes><Code guid="not-a-guid" name="Funding" isCodable="true"/></Codes></CodeBook>
  <Sources><TextSource guid="69A4332D-5B31-4915-B520-5275CFC21B40" name="x"><Bogus/></TextSource></Sources>
</Project>"""
    with pytest.raises(QdpxError) as caught:
        read_qdpx(_zip(tmp_path / "broken.qdpx", {"project.qde": qde}))
    message = str(caught.value)
    assert message.startswith("broken.qdpx: project.qde does not follow the REFI-QDA project schema")
    assert "'name' is required" in message and "not-a-guid" in message and "Bogus" in message
    assert "line 3" in message
    with pytest.raises(QdpxError, match="not well-formed XML"):
        read_qdpx(_zip(tmp_path / "mangled.qdpx", {"project.qde": "<Project"}))


def test_refi_qda_import_refuses_quotes_it_cannot_find(codebook: Codebook, tmp_path: Path) -> None:
    outside = OTHER_TOOL_QDE.replace('startPosition="10" endPosition="25"', 'startPosition="10" endPosition="400"')
    path = _zip(tmp_path / "long.qdpx", {"project.qde": outside,
                                         "Sources/01106019-2518-43DD-BBD1-8F0252BACB30.txt": "short text",
                                         "Sources/notes.txt": "n"})
    with pytest.raises(QdpxError, match=r"source 'Interview Mabel\.docx', selection '4191294A-E287-4510-9D49-9C3A2B8D36B6': positions 10\.\.400 are outside the text's 10 characters"):
        read_qdpx(path)
    path = _zip(tmp_path / "external.qdpx", {"project.qde": OTHER_TOOL_QDE,
                                             "Sources/01106019-2518-43DD-BBD1-8F0252BACB30.txt": "some text here, long enough"})
    with pytest.raises(QdpxError, match=r"source 'Notes' refers to 'relative:///AR/notes\.txt', which is not inside the archive"):
        read_qdpx(path)


# --------------------------------------------------------------------------------------------------
# CSV / .xlsx
# --------------------------------------------------------------------------------------------------


ROWS: list[CodeExportRow | dict[str, object]] = [
    CodeExportRow(17, "Clwstwr Môn", "Betsi Cadwaladr", "barriers", "funding", "alys", "accepted", AT),
    {"answer_id": 18, "cluster": "=HYPERLINK(\"http://evil.example\",\"click\")", "health_board": "Hywel Dda",
     "question": "enablers", "theme": "leadership", "coder": "@bryn", "decision": "rejected", "at": None},
]


def test_code_exports_csv_reads_back_with_welsh_letters_and_inert_formulas(tmp_path: Path) -> None:
    path = write_codes_csv(ROWS, tmp_path / "codes.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert rows[0] == list(COLUMNS)
    assert rows[1] == ["17", "Clwstwr Môn", "Betsi Cadwaladr", "barriers", "funding", "alys", "accepted", "2024-05-14T09:30:00Z"]
    assert rows[2][1] == "'=HYPERLINK(\"http://evil.example\",\"click\")" and rows[2][5] == "'@bryn"
    assert rows[2][7] == ""


def test_code_exports_xlsx_has_a_bold_frozen_header_and_never_a_formula(tmp_path: Path) -> None:
    path = write_codes_xlsx(ROWS, tmp_path / "codes.xlsx")
    sheet = load_workbook(path).active
    assert [c.value for c in sheet[1]] == list(COLUMNS)
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width > len("cluster") + 2  # widened to fit the formula-like text
    assert [c.value for c in sheet[2]] == [17, "Clwstwr Môn", "Betsi Cadwaladr", "barriers", "funding", "alys",
                                           "accepted", datetime(2024, 5, 14, 9, 30)]
    formula_like = sheet["B3"]
    assert formula_like.value == "=HYPERLINK(\"http://evil.example\",\"click\")"
    assert formula_like.data_type == "s" and formula_like.quotePrefix
    with zipfile.ZipFile(path) as zf:
        sheet_xml = zf.read("xl/worksheets/sheet1.xml")
    b3 = re.search(rb'<c r="B3"[^>]*>.*?</c>', sheet_xml)
    assert b3 is not None and b't="inlineStr"' in b3.group(0) and b"<f>" not in sheet_xml  # text, never a formula
    assert sheet["H3"].value is None  # no time: an empty cell


def test_code_exports_name_the_row_and_field_that_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="code export row 2: missing theme, coder"):
        write_codes_csv([ROWS[0], {"answer_id": 1, "cluster": "c", "health_board": "b", "question": "q", "decision": "d"}],
                        tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_code_exports_empty_round_gives_header_only(tmp_path: Path) -> None:
    text = write_codes_csv([], tmp_path / "none.csv").read_text(encoding="utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [list(COLUMNS)]
    assert [c.value for c in load_workbook(write_codes_xlsx([], tmp_path / "none.xlsx")).active[1]] == list(COLUMNS)
