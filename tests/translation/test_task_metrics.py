"""The translation task in the trainer's hands: metrics, gradient flow, checkpoints, translate()."""
from __future__ import annotations

import pytest
import torch
from sacrebleu.metrics import BLEU

from playground.runstore import checkpoint
from playground import tasks
from playground.config import ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig
from playground.data.errors import DataError
from playground.tasks import sequence_metrics
from playground.tasks.translation import attention_text
from playground.train import diagnostics
from translation_helpers import make_model


def test_bleu_is_sacrebleus_corpus_bleu_over_tokens():
    outputs = [list("1998-03-03"), list("2001-12-25"), "the cat sat on the mat".split()]
    references = [list("1998-03-03"), list("2001-11-25"), "the cat sat on a mat".split()]
    expected = BLEU(tokenize="none").corpus_score([" ".join(o) for o in outputs],
                                                  [[" ".join(r) for r in references]]).score
    assert sequence_metrics.corpus_bleu(outputs, references) == pytest.approx(expected)
    assert 0 < expected < 100
    assert sequence_metrics.corpus_bleu(references, references) == pytest.approx(100.0)


def test_exact_match_and_token_accuracy():
    references = [list("312"), list("42"), list("7")]
    outputs = [list("312"), list("41"), list("77")]
    assert sequence_metrics.exact_match(outputs, references) == pytest.approx(1 / 3)
    assert sequence_metrics.token_accuracy(outputs, references) == pytest.approx(5 / 7)  # 3 + 1 + 1 of 3 + 2 + 2
    assert sequence_metrics.token_accuracy([[]], [list("12")]) == 0.0  # a missing token is wrong


def test_token_accuracy_counts_extra_output_tokens_as_wrong():
    reference, rambling = list("1998-03-03"), list("1998-03-0399999")
    assert sequence_metrics.token_accuracy([rambling], [reference]) == pytest.approx(10 / 15)
    assert sequence_metrics.token_accuracy([reference], [reference]) == 1.0
    assert sequence_metrics.token_accuracy([list("12"), []], [list("12"), list("3")]) == pytest.approx(2 / 3)


def test_chrf_is_sacrebleus_character_f_score():
    from sacrebleu.metrics import CHRF

    outputs, references = [list("1998-03-04"), list("2001-12-31")], [list("1998-03-03"), list("2001-12-31")]
    expected = CHRF().corpus_score(["1998-03-04", "2001-12-31"], [["1998-03-03", "2001-12-31"]]).score
    assert sequence_metrics.corpus_chrf(outputs, references) == pytest.approx(expected)
    assert sequence_metrics.corpus_chrf(references, references) == pytest.approx(100.0)


def test_bleu_handles_a_space_token():
    chars = [list("3 mar"), list("4 apr")]
    assert sequence_metrics.corpus_bleu(chars, chars) == pytest.approx(100.0)


def test_evaluate_reports_the_issue_metrics(reverse_task):
    model = make_model(reverse_task, "bahdanau")
    metrics = reverse_task.evaluate(model, batch_size=8, seq_len=0, max_batches=2)
    assert set(metrics) >= {"val_loss", "exact_match", "token_accuracy", "bleu", "chrf"}
    assert metrics["eval_pairs"] == 16
    assert reverse_task.headline_metric == "exact_match" and not reverse_task.carries_state
    assert torch.isfinite(torch.tensor(metrics["val_loss"]))


def test_gradient_flow_spans_the_encoder_time_steps(reverse_task):
    model = make_model(reverse_task, "bahdanau", arch="rnn-tanh")
    probe = reverse_task.probe_batch(32, 0)
    assert len(set(probe["src_len"].tolist())) == 1  # one source length: every x_t is a real token
    flow = diagnostics.gradient_flow(model, probe)
    assert len(flow) == probe["src"].shape[1]
    assert all(v > 0 for v in flow)


def test_gradient_flow_without_attention_fades_with_distance_from_the_end(reverse_task):
    """No attention: the loss at the last decoder step reaches x_t only through the final state."""
    model = make_model(reverse_task, "none", arch="rnn-tanh", init="spectral", spectral_radius=0.3)
    flow = diagnostics.gradient_flow(model, reverse_task.probe_batch(32, 0))
    assert flow[-1] > 10 * flow[0]


def test_checkpoint_keeps_the_vocabularies(tmp_path, reverse_task, monkeypatch):
    cfg = RunConfig(task=reverse_task.cfg, model=ModelConfig(arch="gru", hidden=16, embedding=8, attention="luong"))
    cfg.validate()
    model = make_model(reverse_task, "luong-general")
    checkpoint.save(tmp_path, model, cfg, reverse_task, step=1)

    def no_data(*_args, **_kwargs):
        raise AssertionError("translate() must not need the training data")

    monkeypatch.setattr("playground.tasks.translation.load_pairs", no_data)
    loaded = checkpoint.load(tmp_path)
    assert loaded.task.source_vocab.symbols == reverse_task.source_vocab.symbols
    out = loaded.task.translate(loaded.model, "abcd", beam=2)
    assert out == reverse_task.translate(model, "abcd", beam=2)
    assert len(out["attention"]) == len(out["output_tokens"]) and len(out["attention"][0]) == 4
    assert len(out["alternatives"]) == 2 and out["alternatives"][0]["output"] == out["output"]


def test_translate_reports_unknown_tokens_and_refuses_empty_or_too_long_input(reverse_task):
    model = make_model(reverse_task, "none")
    out = reverse_task.translate(model, "ab7c")
    assert out["unknown"] == ["7"] and out["attention"] is None
    with pytest.raises(DataError, match="nothing to translate"):
        reverse_task.translate(model, "   ")
    with pytest.raises(DataError, match="at most 50"):
        reverse_task.translate(model, "a" * 51)
    with pytest.raises(ConfigError, match="beam"):
        reverse_task.translate(model, "abc", beam=0)


def test_attention_text_marks_each_rows_largest_weight():
    text = attention_text(list("ab"), list("ba"), [[0.1, 0.9], [0.97, 0.03]])
    lines = text.splitlines()
    assert lines[0].split() == ["a", "b"]
    assert lines[1].split() == ["b", "10", "90*"]
    assert lines[2].split() == ["a", "97*"]


def test_config_validation_messages():
    with pytest.raises(ConfigError, match="tokenization must be one of auto, char, word"):
        TaskConfig(name="translation", tokenization="bpe").validate()
    with pytest.raises(ConfigError, match="max_len"):
        TaskConfig(name="translation", max_len=1).validate()
    with pytest.raises(ConfigError, match="teacher_forcing"):
        TrainConfig(teacher_forcing=1.5).validate()


def test_too_few_pairs_for_a_batch_is_a_clear_error(reverse_task):
    with pytest.raises(DataError, match="fewer than one batch"):
        reverse_task.check_size(10_000, 0)


def test_trainer_records_sample_and_metrics_for_a_bidirectional_lstm_with_a_gru_decoder(reverse_task):
    from playground.train.trainer import Trainer
    task = tasks.build(reverse_task.cfg, train=TrainConfig(beam=2))
    model = make_model(task, "luong-general", arch="lstm", decoder_arch="gru", bidirectional=True, backend="scratch")
    result = Trainer(TrainConfig(steps=3, batch_size=16, eval_every=3, eval_batches=1)).fit(model, task)
    record = result.evals[-1]
    assert "→" in record["sample"] and record["spectral_radius"]
    assert "gate_stats" in record  # the scratch encoder records its gates like any core
