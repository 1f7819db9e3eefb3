"""Editing codebooks as a team does: new (from HEIF or empty), add, edit, rename, merge, move, retire.

Each test acts through `qualkit codebook ...` (or the library call of the same name) and checks what
ends up on disk: codebook YAML, every coder's codings file, backups and the change log.
"""
from __future__ import annotations

import csv
import io

import pytest
import yaml
from click.testing import CliRunner

import qualkit.cli
from qualkit.cli import cli
from qualkit.workspace.scaffold import init

HEADER = "transcript,start,end,code,text,memo,coded_at\n"


@pytest.fixture
def ws(tmp_path):
    return init(tmp_path / "ws")


def qk(root, *args):
    """Run `qualkit -w ROOT codebook ARGS...` and return the click result."""
    return CliRunner().invoke(cli, ["-w", str(root), "codebook", *args])


def book(root, book_id="port"):
    return yaml.safe_load((root / "codebooks" / f"{book_id}.yaml").read_text(encoding="utf-8"))


def codes(root, book_id="port"):
    return {c["id"]: c for c in book(root, book_id)["codes"]}


def rows(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def snapshot(root):
    """Every file under the workspace (but backups) -> bytes, to prove an error changed nothing."""
    return {p.relative_to(root): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and ".qualkit" not in p.parts}


def small_book(root):
    """A little inductive codebook: stigma > self_stigma, data_sharing > hipaa, fax."""
    assert qk(root, "new", "PORT codes", "--id", "port").exit_code == 0
    for args in (["Stigma"], ["Self-stigma", "--parent", "stigma", "--keyword", "shame"],
                 ["Data sharing", "--keyword", "data sharing"], ["HIPAA", "--parent", "Data sharing"],
                 ["Fax", "--keyword", "fax", "--example", "I literally fax it"]):
        r = qk(root, "add", *args, "--by", "ana")
        assert r.exit_code == 0, r.output


# -- new ------------------------------------------------------------------------------------

def test_new_from_heif_gives_one_deductive_code_per_framework_item_with_the_hierarchy(ws):
    from qualkit.frameworks.catalog import get_framework

    r = qk(ws, "new", "HEIF deductive", "--from-framework", "heif", "--by", "lead")
    assert r.exit_code == 0, r.output
    assert "Created codebooks/heif_deductive.yaml: 66 codes" in r.output
    data = book(ws, "heif_deductive")
    fw = get_framework("heif")
    assert data["framework"] == "heif"
    got = {c["id"]: c for c in data["codes"]}
    assert len(got) == len(fw.items()) == 66
    for item in fw.items():
        code = got[item.id]
        assert code["name"] == item.label
        assert code.get("parent") == item.parent
        assert code["origin"] == "deductive"
        assert code["framework"] == [f"heif:{item.id}"]
        assert code["definition"].startswith(" ".join(item.definition.split()))
    # hierarchy: a construct under its sub-domain, under its domain
    assert got["structure_and_systems"]["parent"] == "inner_organizational"
    assert got["inner_organizational"]["parent"] == "context"
    # unverified names are flagged in the definition
    assert "not verified" in got["motivation"]["definition"]
    assert data["changelog"][0]["who"] == "lead" and "heif" in data["changelog"][0]["what"]


def test_new_without_a_framework_is_an_empty_inductive_codebook_and_never_overwrites(ws):
    assert qk(ws, "new", "PORT inductive").exit_code == 0
    path = ws / "codebooks" / "port_inductive.yaml"
    assert book(ws, "port_inductive")["codes"] == []
    before = path.read_bytes()
    r = qk(ws, "new", "Something else", "--id", "port_inductive")
    assert r.exit_code == 1 and "already exists" in r.output and "Traceback" not in r.output
    assert path.read_bytes() == before


def test_new_from_an_unknown_framework_names_the_close_match(ws):
    r = qk(ws, "new", "X", "--from-framework", "hief")
    assert r.exit_code == 1 and "heif" in r.output
    assert list((ws / "codebooks").glob("*.yaml")) == []


def test_a_second_framework_codebook_gets_prefixed_ids_so_ids_stay_unique(ws):
    from qualkit.api import Workspace
    from qualkit.coding.codebook_edit import new_codebook
    from qualkit.coding.codebook_validate import validate

    w = Workspace(ws)
    new_codebook(w, "HEIF", from_framework="heif")
    result = new_codebook(w, "HEIF again", from_framework="heif", id="heif2")
    assert "prefix 'heif_'" in result.message
    assert "heif_innovation" in codes(ws, "heif2")
    assert [p for p in validate(w) if p.is_error] == []


# -- add / edit -----------------------------------------------------------------------------

def test_add_generates_snake_case_ids_and_checks_framework_refs(ws):
    qk(ws, "new", "PORT", "--id", "port")
    r = qk(ws, "add", "Inter-partner data sharing", "--brief", "Moving client information",
           "--framework", "heif:Outer context", "--keyword", "fax", "--keyword", "HIPAA", "--by", "ana")
    assert r.exit_code == 0, r.output
    code = codes(ws)["inter_partner_data_sharing"]
    assert code["framework"] == ["heif:outer"]          # checked and written in its short form
    assert code["keywords"] == ["fax", "HIPAA"] and code["origin"] == "inductive"
    assert book(ws)["changelog"][-1]["who"] == "ana"

    before = snapshot(ws)
    r = qk(ws, "add", "Stigma", "--framework", "heif:societal_contxt")
    assert r.exit_code == 1 and "did you mean" in r.output and "heif:societal_context" in r.output
    r = qk(ws, "add", "Inter-partner  DATA sharing")   # same name at the same level
    assert r.exit_code == 1 and "already a code named" in r.output
    r = qk(ws, "add", "HIPAA", "--parent", "nope")
    assert r.exit_code == 1 and "no parent code 'nope'" in r.output
    r = qk(ws, "add", "Bad id", "--id", "Bad Id")
    assert r.exit_code == 1 and "must be lower-case" in r.output
    assert snapshot(ws) == before


def test_the_same_name_under_another_parent_gets_a_distinct_id(ws):
    qk(ws, "new", "PORT", "--id", "port")
    qk(ws, "add", "Barriers")
    qk(ws, "add", "Facilitators")
    qk(ws, "add", "Other", "--parent", "barriers")
    qk(ws, "add", "Other", "--parent", "facilitators")
    got = codes(ws)
    assert got["other"]["parent"] == "barriers"
    assert got["facilitators_other"]["parent"] == "facilitators"


def test_edit_replaces_text_fields_and_appends_list_fields(ws):
    small_book(ws)
    r = qk(ws, "edit", "fax", "--definition", "Referral paperwork sent by fax.", "--keyword", "faxed",
           "--name", "Faxed referrals", "--by", "ben")
    assert r.exit_code == 0, r.output
    code = codes(ws)["fax"]
    assert code["definition"] == "Referral paperwork sent by fax." and code["name"] == "Faxed referrals"
    assert code["keywords"] == ["fax", "faxed"]
    r = qk(ws, "edit", "fax", "--clear", "keywords", "--keyword", "fax machine")
    assert r.exit_code == 0 and codes(ws)["fax"]["keywords"] == ["fax machine"]
    entry = book(ws)["changelog"][-2]
    assert entry["who"] == "ben" and "edited fax" in entry["what"] and entry["when"][:2] == "20"


# -- rename ---------------------------------------------------------------------------------

def test_rename_rewrites_every_coders_file_keeps_backups_and_logs_the_change(ws):
    small_book(ws)
    ana = ws / "codings" / "ana.csv"
    ben = ws / "codings" / "ben.csv"
    ana.write_text(HEADER + "int1,0,10,fax,I literally,,\nint1,20,30,stigma,x,,\nint2,5,9,fax,y,memo,\n", encoding="utf-8")
    ben.write_text("transcript,start,end,code,text,memo,coded_at,site\nint1,0,10,fax,I literally,,,Calder\n", encoding="utf-8")
    old_ana, old_ben = ana.read_text(encoding="utf-8"), ben.read_text(encoding="utf-8")
    (ws / "themes.yaml").write_text("themes:\n  - name: Paper trail\n    codes: [fax]\n", encoding="utf-8")

    r = qk(ws, "rename", "fax", "fax_referrals", "--by", "ana")
    assert r.exit_code == 0, r.output
    assert "3 codings recoded" in r.output and "ana.csv (2)" in r.output and "ben.csv (1)" in r.output
    assert "themes.yaml still refers to 'fax'" in r.output

    assert [x["code"] for x in rows(ana)] == ["fax_referrals", "stigma", "fax_referrals"]
    assert rows(ana)[2]["memo"] == "memo"
    assert rows(ben) == [{"transcript": "int1", "start": "0", "end": "10", "code": "fax_referrals",
                          "text": "I literally", "memo": "", "coded_at": "", "site": "Calder"}]  # extra column kept
    assert "fax_referrals" in codes(ws) and "fax" not in codes(ws)
    backups = {p.name.split(".")[0]: p.read_text(encoding="utf-8") for p in (ws / ".qualkit" / "backups").glob("*.csv.*.bak")}
    assert backups["ana"] == old_ana and backups["ben"] == old_ben
    entry = book(ws)["changelog"][-1]
    assert entry["who"] == "ana" and entry["what"].startswith("renamed code fax to fax_referrals")


def test_rename_keeps_children_attached_and_can_rename_only_the_name(ws):
    small_book(ws)
    assert qk(ws, "rename", "data_sharing", "information_sharing").exit_code == 0
    assert codes(ws)["hipaa"]["parent"] == "information_sharing"
    r = qk(ws, "rename", "information_sharing", "--name", "Information sharing")
    assert r.exit_code == 0 and codes(ws)["information_sharing"]["name"] == "Information sharing"


def test_rename_onto_an_id_in_use_refuses_and_writes_nothing(ws):
    small_book(ws)
    (ws / "codings" / "ana.csv").write_text(HEADER + "int1,0,10,fax,a,,\nint1,0,10,orphan,a,,\n", encoding="utf-8")
    before = snapshot(ws)
    r = qk(ws, "rename", "fax", "stigma")
    assert r.exit_code == 1 and "already used" in r.output
    r = qk(ws, "rename", "fax", "orphan")
    assert r.exit_code == 1 and "already used by 1 coding" in r.output
    assert snapshot(ws) == before


def test_a_malformed_codings_file_stops_the_rename_before_anything_is_written(ws):
    small_book(ws)
    (ws / "codings" / "ana.csv").write_text(HEADER + "int1,0,10,fax,a,,\n", encoding="utf-8")
    (ws / "codings" / "ben.csv").write_text(HEADER + "int1,0,10,fax,a,,\nint1,ten,20,fax,b,,\n", encoding="utf-8")
    before = snapshot(ws)
    r = qk(ws, "rename", "fax", "fax_referrals")
    assert r.exit_code == 1 and "ben.csv:3" in r.output and "Traceback" not in r.output
    assert snapshot(ws) == before


# -- merge ----------------------------------------------------------------------------------

def test_merge_moves_codings_drops_exact_duplicates_and_retires_the_source(ws):
    small_book(ws)
    ana = ws / "codings" / "ana.csv"
    ana.write_text(HEADER +
                   "int1,0,10,fax,abc,faxed twice,\n"         # same span already coded data_sharing: dropped
                   "int1,0,10,data_sharing,abc,,\n"
                   "int1,20,30,fax,def,,\n"                   # becomes data_sharing
                   "int1,20,35,data_sharing,defgh,,\n"        # different span: both stay
                   "int2,1,5,stigma,zz,,\n", encoding="utf-8")
    ben = ws / "codings" / "ben.csv"
    ben.write_text(HEADER + "int1,0,10,fax,abc,,\n", encoding="utf-8")

    r = qk(ws, "merge", "fax", "into", "data_sharing", "--by", "lead")
    assert r.exit_code == 0, r.output
    assert "1 duplicate" in r.output and "fax is retired" in r.output
    got = [(x["transcript"], x["start"], x["end"], x["code"], x["memo"]) for x in rows(ana)]
    assert got == [("int1", "0", "10", "data_sharing", "faxed twice"), ("int1", "20", "30", "data_sharing", ""),
                   ("int1", "20", "35", "data_sharing", ""), ("int2", "1", "5", "stigma", "")]
    assert [x["code"] for x in rows(ben)] == ["data_sharing"]
    after = codes(ws)
    assert after["fax"]["status"] == "retired"                 # kept for the record
    assert "fax" in after["data_sharing"]["keywords"]          # autocode keeps finding it
    assert "I literally fax it" in after["data_sharing"]["examples"]
    entry = book(ws)["changelog"][-1]
    assert entry["who"] == "lead" and "merged fax into data_sharing" in entry["what"] and "1 duplicate dropped" in entry["what"]
    assert len(list((ws / ".qualkit" / "backups").glob("*.csv.*.bak"))) == 2


def test_merge_moves_children_under_the_target_and_refuses_bad_targets(ws):
    small_book(ws)
    assert qk(ws, "merge", "data_sharing", "into", "stigma").exit_code == 0
    assert codes(ws)["hipaa"]["parent"] == "stigma"
    before = snapshot(ws)
    r = qk(ws, "merge", "fax", "into", "data_sharing")
    assert r.exit_code == 1 and "retired" in r.output
    r = qk(ws, "merge", "fax", "into", "fax")
    assert r.exit_code == 1 and "into itself" in r.output
    r = qk(ws, "merge", "fax", "nothere")
    assert r.exit_code == 1 and "no code 'nothere'" in r.output
    r = qk(ws, "merge", "fax")
    assert r.exit_code == 2
    assert snapshot(ws) == before


# -- move / retire --------------------------------------------------------------------------

def test_move_changes_the_parent_and_refuses_cycles(ws):
    small_book(ws)
    assert qk(ws, "move", "fax", "--parent", "data_sharing").exit_code == 0
    assert codes(ws)["fax"]["parent"] == "data_sharing"
    before = snapshot(ws)
    r = qk(ws, "move", "data_sharing", "--parent", "fax")
    assert r.exit_code == 1 and "cycle" in r.output
    r = qk(ws, "move", "fax", "--parent", "fax")
    assert r.exit_code == 1 and "own parent" in r.output
    assert snapshot(ws) == before
    assert qk(ws, "move", "fax", "--top").exit_code == 0
    assert "parent" not in codes(ws)["fax"]


def test_retire_keeps_the_codings_and_validate_then_warns(ws):
    small_book(ws)
    ana = ws / "codings" / "ana.csv"
    ana.write_text(HEADER + "int1,0,10,fax,abc,,\n", encoding="utf-8")
    before = ana.read_bytes()
    r = qk(ws, "retire", "Fax")            # by name
    assert r.exit_code == 0 and "1 coding is kept" in r.output
    assert codes(ws)["fax"]["status"] == "retired" and ana.read_bytes() == before
    r = qk(ws, "validate")
    assert r.exit_code == 0 and "warning: retired code 'fax' is still used" in r.output


# -- library --------------------------------------------------------------------------------

def test_library_calls_return_a_result_with_a_message_and_the_files_written(ws):
    from qualkit.api import Workspace
    from qualkit.coding.codebook_edit import add_code, merge_codes, new_codebook, rename_code

    w = Workspace(ws)
    new_codebook(w, "PORT", id="port", by="ana")
    add_code(w, "Stigma", by="ana")
    add_code(w, "Shame", by="ana")
    (ws / "codings" / "ana.csv").write_text(HEADER + "int1,0,4,shame,abcd,,\n", encoding="utf-8")
    r = rename_code(w, "shame", "self_stigma", by="ana")
    assert r.recoded == {"ana.csv": 1} and ws / "codings" / "ana.csv" in r.written
    r = merge_codes(w, "self_stigma", "stigma", by="ana")
    assert r.dropped == {} and r.code.id == "stigma" and "Merged self_stigma into stigma" in str(r)
    assert [c.code for c in w.codings("ana")] == ["stigma"]


def test_merge_across_codebooks_moves_children_to_the_sources_parent(ws):
    small_book(ws)
    qk(ws, "new", "Second", "--id", "second")
    qk(ws, "add", "Information flow", "-c", "second")
    (ws / "codings" / "ana.csv").write_text(HEADER + "int1,0,10,data_sharing,abc,,\n", encoding="utf-8")
    r = qk(ws, "merge", "data_sharing", "into", "information_flow")
    assert r.exit_code == 0, r.output
    assert "parent" not in codes(ws)["hipaa"]                       # a parent must be in the same codebook
    assert [x["code"] for x in rows(ws / "codings" / "ana.csv")] == ["information_flow"]
    assert "received data_sharing from port" in book(ws, "second")["changelog"][-1]["what"]
    assert qk(ws, "validate").exit_code == 0


def test_a_failure_halfway_puts_back_the_files_already_written(ws, monkeypatch):
    import qualkit.coding.codebook_edit as edit
    import qualkit.io.transaction as transaction

    small_book(ws)
    (ws / "codings" / "ana.csv").write_text(HEADER + "int1,0,10,fax,a,,\n", encoding="utf-8")
    (ws / "codings" / "ben.csv").write_text(HEADER + "int1,0,10,fax,a,,\n", encoding="utf-8")
    before = snapshot(ws)
    real = transaction.backup

    def flaky(path, *a, **k):  # the disk fills up while the change is being staged
        if path.name == "ben.csv":
            raise OSError(28, "No space left on device", str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(transaction, "backup", flaky)
    with pytest.raises(OSError):
        edit.rename_code(qualkit.Workspace(ws), "fax", "fax_referrals")
    assert snapshot(ws) == before


def test_dash_c_names_the_codebook_on_every_codebook_subcommand(ws, tmp_path):
    small_book(ws)
    assert qk(ws, "new", "Second", "-c", "second").exit_code == 0          # -c is --id when creating
    assert qk(ws, "add", "Ferry", "-c", "second").exit_code == 0
    shown = qk(ws, "show", "-c", "second")
    assert shown.exit_code == 0, shown.output
    assert shown.output == qk(ws, "show", "second").output and "Ferry" in shown.output and "Fax" not in shown.output
    checked = qk(ws, "validate", "-c", "second")
    assert checked.exit_code == 0 and checked.output == qk(ws, "validate", "second").output
    assert qk(ws, "edit", "ferry", "-c", "second", "--brief", "Boats").exit_code == 0
    sheet = tmp_path / "second.csv"
    assert qk(ws, "export", str(sheet), "-c", "second").exit_code == 0
    r = qk(ws, "import", str(sheet), "-c", "second", "--replace")
    assert r.exit_code == 0 and "Replaced codebooks/second.yaml" in r.output, r.output
    r = qk(ws, "show", "port", "-c", "second")
    assert r.exit_code == 2 and "two codebooks given" in r.output
