"""A team's own CoNLL files: strict reading (file:line errors), IOB1, shorthands, and the CLI's answers."""
from __future__ import annotations

import pytest

from training.__main__ import main
from training.conll_files import entity_types, log_summaries, read_tagged_file, read_tagged_files, run_files
from training.data import DataError

ROBOT = "IMGID:kitchen_01\nbring\tO\nthe\tO\nred\tB-OBJECT\ncup\tI-OBJECT\nto\tO\nthe\tO\nkitchen\tB-ROOM\n\n"


def test_reads_own_types_bio_iob1_and_whitespace_columns(tmp_path):
    path = tmp_path / "a.txt"
    # IOB1: entities start with I-; the second line's columns are whitespace-separated (CoNLL-2003 style).
    path.write_text(ROBOT + "go NN I-ROOM\nto TO O\nthe DT O\nhall NN I-ROOM\n", encoding="utf-8")
    first, second = read_tagged_file(path)
    assert first.image_id == "kitchen_01" and first.tags[2:4] == ["B-OBJECT", "I-OBJECT"]
    assert second.image_id is None and second.tokens == ["go", "to", "the", "hall"]
    assert second.tags == ["I-ROOM", "O", "O", "I-ROOM"]  # as written: repaired when examples are made
    assert entity_types([first, second]) == {"OBJECT", "ROOM"}


def test_other_is_misc_unless_the_types_name_it(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("St\tB-OTHER\nLouis\tI-OTHER\n")
    assert read_tagged_file(path)[0].tags == ["B-MISC", "I-MISC"]
    assert read_tagged_file(path, ("OTHER",))[0].tags == ["B-OTHER", "I-OTHER"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"Paris\tB-LOC\nis\tO\nnice\tS-MISC\n", "a.txt:3: tag 'S-MISC' is not O, B-TYPE or I-TYPE"),
        (b"Paris\tB-\n", "a.txt:1: tag 'B-' is not O, B-TYPE or I-TYPE"),
        (b"Paris\tb-loc\n", "a.txt:1: tag 'b-loc' is not O, B-TYPE or I-TYPE"),
        (b"", "a.txt: empty file"),
        (b"\n  \n", "a.txt: empty file"),
        (b"IMGID:1\n\nIMGID:2\n", "a.txt: no sentences"),
        (b"ok\tO\n\ncaf\xe9\tB-LOC\n", "a.txt:3: byte 0xe9 at column 4 is not UTF-8"),
        (b"ok\tO\n\tB-LOC\n", "a.txt:2: no token before the tag"),
        (b"go\tO\nkitchen\tB-ROOM\n", "a.txt:2: tag 'B-ROOM' has type 'ROOM', not one of --types: OBJECT"),
    ],
)
def test_bad_data_is_one_line_naming_file_and_line(tmp_path, content, message):
    path = tmp_path / "a.txt"
    path.write_bytes(content)
    with pytest.raises(DataError) as error:
        read_tagged_file(path, ("OBJECT",) if b"ROOM" in content else None)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_stray_i_tags_are_counted_in_the_log(tmp_path, caplog):
    path = tmp_path / "a.txt"
    path.write_text("go\tO\nhall\tI-ROOM\n\nthe\tO\nred\tI-OBJECT\ncup\tI-OBJECT\n")
    with caplog.at_level("INFO", logger="training"):
        log_summaries("train", read_tagged_files([path]))
    assert f"train {path}: 2 sentences, entities {{'OBJECT': 1, 'ROOM': 1}}, 2 stray I- tags read as B-" in caplog.text


def test_shorthands_and_default_splits(tmp_path):
    train, valid, test = run_files(["twitter2017"], None, None, tmp_path)
    assert (train, valid) == ([tmp_path / "twitter2017" / "train.txt"], [tmp_path / "twitter2017" / "valid.txt"])
    assert test == {"twitter2017": tmp_path / "twitter2017" / "test.txt"}
    train, valid, test = run_files(["mine.txt", "twitter2015"], ["dev.txt"], ["a/t.txt", "b/t.txt"], tmp_path)
    assert train[0].name == "mine.txt" and valid[0].name == "dev.txt" and list(test) == ["t", "t1"]
    with pytest.raises(DataError, match="--valid FILE... is needed with --train files"):
        run_files(["mine.txt"], None, None, tmp_path)


def test_cli_refuses_bad_files_before_training(tmp_path, capsys, caplog):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text(ROBOT)
    bad.write_text(ROBOT + "the\tO\nhall\tB-PLACE\n")
    cases = [
        (["--train", good, bad, "--valid", good, "--types", "OBJECT,ROOM"], f"{bad}:11: tag 'B-PLACE'"),
        (["--train", good, "--valid", bad], f"{bad}:11: tag 'B-PLACE' has type 'PLACE', not one of the types of "
                                            "the --train files: OBJECT, ROOM"),
        (["--train", good], "--valid FILE... is needed"),
        (["--train", good, "--valid", good, "--types", "ROOM,OBJECT,AREA"], "the --train files never tag AREA"),
    ]
    for args, message in cases:
        code = main(["train", *map(str, args), "--out", str(tmp_path / "run"), "--epochs", "1"])
        error = capsys.readouterr().err
        assert code == 2 and message in error and error.count("\n") == 1, error
    assert not caplog.records and not (tmp_path / "run").exists()


def test_a_no_break_space_token_is_a_token(tmp_path):
    # Twitter-2015 valid has one: a tab-separated column is stripped of ASCII whitespace only
    path = tmp_path / "nbsp.txt"
    path.write_text("and\tO\n\u00a0\tO\nBerlin\tB-LOC\n", encoding="utf-8")
    [sentence] = read_tagged_file(path)
    assert sentence.tokens == ["and", "\u00a0", "Berlin"] and sentence.tags == ["O", "O", "B-LOC"]
