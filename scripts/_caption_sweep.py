# TEMPORARY: hyper-parameter sweep for the captioner recipe (deleted after use)
import json, os, sys, time
import multiprocessing as mp
sys.path.insert(0, ".")

LIMIT = float(os.environ.get("LIMIT", 420))

def run(args):
    name, overrides = args
    import torch
    torch.set_num_threads(1)
    from playground import tasks, models
    from playground.config import RunConfig, TaskConfig, ModelConfig, TrainConfig
    from playground.train.trainer import Trainer, Callback
    cfg = RunConfig(task=TaskConfig(name="captioning", dataset="shapes2"),
                    model=ModelConfig(arch="lstm", hidden=128, embedding=32, attention="soft"),
                    train=TrainConfig(steps=100000, batch_size=32, lr=3e-3, eval_every=200, eval_batches=8,
                                      checkpoint_every=10**9))
    for k, v in overrides.items():
        section, field = k.split(".")
        setattr(getattr(cfg, section), field, v)
    torch.manual_seed(cfg.train.seed)
    task = tasks.build(cfg.task, train=cfg.train)
    model = models.build(cfg.model, task.spec)
    log = []
    start = time.perf_counter()
    class CB(Callback):
        def on_eval(self, trainer, record):
            log.append((record["step"], round(time.perf_counter() - start, 1), round(record["exact_match"], 3),
                         round(record["val_loss"], 3)))
    Trainer(cfg.train).fit(model, task, [CB()], should_stop=lambda: time.perf_counter() - start > LIMIT)
    final = task.evaluate(model, 100, 0)
    hits = task.colour_attention_hits(model) if model.uses_attention else None
    return {"name": name, "log": log, "final": final, "hits": hits, "params": model.parameter_count()}

CONFIGS = [
    ("base", {}),
    ("lr2e-3", {"train.lr": 2e-3}),
    ("lr5e-3", {"train.lr": 5e-3}),
    ("bs64", {"train.batch_size": 64}),
    ("bs16-lr2e-3", {"train.batch_size": 16, "train.lr": 2e-3}),
    ("none", {"model.attention": "none"}),
    ("gru", {"model.arch": "gru"}),
    ("clip5", {"train.clip_threshold": 5.0}),
    ("h64", {"model.hidden": 64}),
    ("h192", {"model.hidden": 192}),
    ("none-bs64", {"model.attention": "none", "train.batch_size": 64}),
    ("rnn-tanh", {"model.arch": "rnn-tanh"}),
    ("base-seed1", {"train.seed": 1}),
    ("lr1e-3", {"train.lr": 1e-3}),
]

if __name__ == "__main__":
    only = os.environ.get("ONLY")
    configs = [c for c in CONFIGS if not only or c[0] in only.split(",")]
    with mp.get_context("spawn").Pool(len(configs)) as pool:
        results = pool.map(run, configs)
    out = os.environ.get("OUT", "/tmp")
    with open(os.path.join(out, "sweep.json"), "w") as f:
        json.dump(results, f, indent=1)
    for r in results:
        print(r["name"], r["params"], "final", {k: round(v, 3) for k, v in r["final"].items()}, "hits", r["hits"])
        print("   ", r["log"])
