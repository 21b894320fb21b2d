"""
Runs a classify/regress run folder's train.py up to trainer.train() against stand-in torch,
datasets, transformers and peft modules, and writes what the trainer was given as JSON. The config
classes are dataclasses built from the pinned field lists (assets/trl/fields.json for
TrainingArguments, assets/head/peft_fields.json for LoraConfig), so a config.yaml key is checked the
way the real dataclasses check it (TypeError). torch is a small pure-Python tensor with the ops the
losses use, so the stand-in Trainer runs train.py's compute_loss on made-up logits.

  python3 head_standin.py train <flavour> <run dir> <out.json>    flavour: old (transformers 4.56) | new (5.0)
  python3 head_standin.py loss <run dir> <loss> <logits json> <labels json>   prints train.py's loss value
  python3 head_standin.py package <run dir> <llama.cpp dir> <out.json>   runs package.py; STANDIN_HEAD="[rows, hidden, bias 0/1]"
"""
import dataclasses
import json
import math
import os
import runpy
import sys
import types

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "..")
trl_fields = json.load(open(os.path.join(root, "assets", "trl", "fields.json"), encoding="utf-8"))
peft_fields = json.load(open(os.path.join(root, "assets", "head", "peft_fields.json"), encoding="utf-8"))


# ---- torch: a nested-list tensor, 1-D or 2-D ----
class T:
    def __init__(self, data, dtype="float32"):
        self.data, self.dtype = data, dtype

    @property
    def shape(self):
        return (len(self.data), len(self.data[0])) if self.data and isinstance(self.data[0], list) else (len(self.data),)

    def _map(self, fn):
        return T([[fn(x) for x in row] for row in self.data] if len(self.shape) == 2 else [fn(x) for x in self.data], self.dtype)

    def _zip(self, other, fn):
        if len(self.shape) == 2:
            return T([[fn(a, b) for a, b in zip(r, s)] for r, s in zip(self.data, other.data)], self.dtype)
        return T([fn(a, b) for a, b in zip(self.data, other.data)], self.dtype)

    def float(self):
        return T(self._map(float).data, "float32")

    def long(self):
        return T(self._map(int).data, "int64")

    def detach(self):
        return self

    def cpu(self):
        return self

    def tolist(self):
        return self.data

    def item(self):
        return self.data if not isinstance(self.data, list) else self.data[0]

    def __sub__(self, other):
        return self._zip(other, lambda a, b: a - b)

    def __mul__(self, other):
        return self._zip(other, lambda a, b: a * b)

    def flat(self):
        return [x for row in self.data for x in row] if len(self.shape) == 2 else list(self.data)

    def view(self, *shape):
        flat = self.flat()
        if shape == (-1,):
            return T(flat, self.dtype)
        width = shape[1]
        return T([flat[i:i + width] for i in range(0, len(flat), width)], self.dtype)

    def mean(self):
        flat = self.flat()
        return T(sum(flat) / len(flat))


def softmax(x, dim=-1):
    out = []
    for row in x.data:
        m = max(row)
        e = [math.exp(v - m) for v in row]
        out.append([v / sum(e) for v in e])
    return T(out)


def cumsum(x, dim=-1):
    out = []
    for row in x.data:
        acc, r = 0.0, []
        for v in row:
            acc += v
            r.append(acc)
        out.append(r)
    return T(out)


def one_hot(labels, num_classes):
    return T([[1 if i == int(y) else 0 for i in range(num_classes)] for y in labels.data], "int64")


def cross_entropy(logits, labels):
    probs = softmax(logits).data
    return T(sum(-math.log(p[int(y)]) for p, y in zip(probs, labels.data)) / len(labels.data))


def mse_loss(pred, target):
    return T(sum((a - b) ** 2 for a, b in zip(pred.data, target.data)) / len(pred.data))


torch = types.ModuleType("torch")
torch.bfloat16, torch.float16, torch.float32 = "bfloat16", "float16", "float32"
torch.softmax, torch.cumsum, torch.tensor = softmax, cumsum, T
torch.nn = types.SimpleNamespace(functional=types.SimpleNamespace(one_hot=one_hot, cross_entropy=cross_entropy, mse_loss=mse_loss))


def dataclass_of(name, names, post_init=None):
    return dataclasses.make_dataclass(name, [(n, object, dataclasses.field(default=None)) for n in sorted(set(names))],
                                      namespace={"__post_init__": post_init} if post_init else None)


def training_post_init(self):
    # TrainingArguments.__post_init__'s check for load_best_model_at_end (transformers training_args.py).
    if self.load_best_model_at_end and self.eval_strategy not in (None, "no"):
        if self.eval_strategy != (self.save_strategy or "steps"):
            raise ValueError(f"--load_best_model_at_end requires the save and eval strategy to match, but found eval {self.eval_strategy} and save {self.save_strategy}")
        if self.eval_strategy == "steps" and self.save_steps and self.eval_steps and self.save_steps % self.eval_steps:
            raise ValueError(f"--load_best_model_at_end requires save_steps ({self.save_steps}) to be a multiple of eval_steps ({self.eval_steps})")


seen = {}
out_path = None


def write_seen():
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(seen, f, default=str)


def make_transformers(new):
    tf = types.ModuleType("transformers")
    tf.__version__ = "5.0.0" if new else "4.56.2"
    names = set(trl_fields["training_arguments"]) | set(trl_fields.get("training_arguments_newer", []))
    if not new:
        names.add("warmup_ratio")
    tf.TrainingArguments = dataclass_of("TrainingArguments", names, training_post_init)

    class Tokenizer:
        pad_token, eos_token, pad_token_id = None, "<|endoftext|>", 32000

        def apply_chat_template(self, messages, tokenize=True, add_generation_prompt=False):
            assert tokenize is False and add_generation_prompt is True
            return "".join(f"<|{m['role']}|>\n{m['content']}<|end|>\n" for m in messages) + "<|assistant|>\n"

        def __call__(self, texts, truncation=False, max_length=None, add_special_tokens=True):
            ids = [[ord(c) for c in ("<s>" if add_special_tokens else "") + t] for t in texts]
            return {"input_ids": [i[:max_length] if truncation else i for i in ids], "rendered": texts}

        def save_pretrained(self, d):
            os.makedirs(d, exist_ok=True)
            open(os.path.join(d, "tokenizer_config.json"), "w").write("{}")

    tf.AutoTokenizer = types.SimpleNamespace(from_pretrained=lambda name, **kw: Tokenizer())

    class Linear:
        def __init__(self, rows, cols, bias):
            self.weight = T([[round(0.01 * (r + 1) + 0.001 * c, 6) for c in range(cols)] for r in range(rows)])
            self.bias = T([0.5 * r for r in range(rows)]) if bias else None

    class Backbone:
        def __init__(self, tag):
            self.tag = tag

        def state_dict(self):
            return {"layers.0.weight": self.tag}

        def load_state_dict(self, state):
            self.loaded = state

    class SeqCls:
        base_model_prefix = "model"

        def __init__(self, name, kw):
            self.name, self.kw = name, kw
            self.config = types.SimpleNamespace(pad_token_id=None, use_cache=True, num_labels=kw.get("num_labels"))
            shape = json.loads(os.environ.get("STANDIN_HEAD", "[5, 8, 0]"))
            self.score = Linear(shape[0], shape[1], shape[2])
            self.model = Backbone(f"merged:{name}")

        def __call__(self, **inputs):
            n = self.config.num_labels
            rows = len(inputs["input_ids"])
            return types.SimpleNamespace(logits=T([[0.1 * (i + j) for j in range(n)] for i in range(rows)]))

    def seq_from_pretrained(name, **kw):
        seen.setdefault("from_pretrained", []).append({"name": name, **{k: v for k, v in kw.items()}})
        return SeqCls(name, kw)

    tf.AutoModelForSequenceClassification = types.SimpleNamespace(from_pretrained=seq_from_pretrained)

    class Causal:
        base_model_prefix = "model"

        def __init__(self, name):
            self.model = Backbone(f"base:{name}")

        def save_pretrained(self, d):
            seen["causal_backbone"] = self.model.loaded
            open(os.path.join(d, "config.json"), "w").write(json.dumps({"architectures": ["Phi3ForCausalLM"]}))

    def causal_from_pretrained(name, **kw):
        seen.setdefault("from_pretrained", []).append({"name": name, "causal": True, **kw})
        return Causal(name)

    tf.AutoModelForCausalLM = types.SimpleNamespace(from_pretrained=causal_from_pretrained)
    tf.DataCollatorWithPadding = lambda tokenizer: ("DataCollatorWithPadding", tokenizer)

    class EarlyStoppingCallback:
        def __init__(self, early_stopping_patience=1, early_stopping_threshold=0.0):
            self.patience, self.threshold = early_stopping_patience, early_stopping_threshold

        def on_train_begin(self, args):
            # transformers' EarlyStoppingCallback asserts these at train start.
            assert args.load_best_model_at_end, "EarlyStoppingCallback requires load_best_model_at_end = True"
            assert args.eval_strategy not in (None, "no"), "EarlyStoppingCallback requires an eval strategy"

    tf.EarlyStoppingCallback = EarlyStoppingCallback

    class Trainer:
        def __init__(self, model, args, train_dataset=None, eval_dataset=None, data_collator=None, compute_metrics=None, callbacks=None):
            self.model, self.args, self.train_dataset, self.eval_dataset = model, args, train_dataset, eval_dataset
            self.compute_metrics, self.callbacks = compute_metrics, callbacks or []
            self.accelerator = types.SimpleNamespace(is_main_process=False)

        def train(self, resume_from_checkpoint=None):
            for callback in self.callbacks:
                callback.on_train_begin(self.args)
            rows = self.train_dataset.rows[:2]
            labels = T([r["label"] for r in rows], "float32")
            model = self.model
            loss = self.compute_loss(model, {"labels": labels, "input_ids": [r["input_ids"] for r in rows]}, num_items_in_batch=len(rows))
            metrics = None
            if self.compute_metrics:
                import numpy as np

                logits = np.array(model(input_ids=[r["input_ids"] for r in rows]).logits.data)
                metrics = self.compute_metrics((logits, np.array([r["label"] for r in rows])))
            inner = getattr(model, "inner", model)
            seen.update(
                args={k: v for k, v in dataclasses.asdict(self.args).items() if v is not None},
                loss=loss.item(),
                metrics=metrics,
                train_rows=len(self.train_dataset.rows), eval_rows=None if self.eval_dataset is None else len(self.eval_dataset.rows),
                first_row={k: v for k, v in self.train_dataset.rows[0].items() if k != "input_ids"},
                callbacks=[{"patience": c.patience, "threshold": c.threshold} for c in self.callbacks],
                lora=getattr(model, "lora", None), pad_token_id=inner.config.pad_token_id, use_cache=inner.config.use_cache,
                resume=resume_from_checkpoint,
            )
            write_seen()

        def save_model(self, d):
            pass

    tf.Trainer = Trainer
    return tf


class Dataset:
    def __init__(self, rows):
        self.rows = rows

    def map(self, fn, batched=False, remove_columns=()):
        batch = {k: [r[k] for r in self.rows] for k in self.rows[0]}
        result = fn(batch)
        rows = []
        for i, r in enumerate(self.rows):
            row = {k: v for k, v in r.items() if k not in remove_columns}
            row.update({k: v[i] for k, v in result.items()})
            rows.append(row)
        return Dataset(rows)


class DatasetDict(dict):
    def map(self, fn, batched=False, remove_columns=()):
        return DatasetDict({k: v.map(fn, batched, remove_columns) for k, v in self.items()})


def load_dataset(kind, data_files):
    assert kind == "json"
    return DatasetDict({split: Dataset([json.loads(line) for line in open(f, encoding="utf-8") if line.strip()]) for split, f in data_files.items()})


datasets = types.ModuleType("datasets")
datasets.load_dataset = load_dataset

peft = types.ModuleType("peft")
peft.LoraConfig = dataclass_of("LoraConfig", peft_fields["lora_config"])


class PeftWrapped:
    def __init__(self, model, config):
        self.inner, self.lora = model, {k: v for k, v in dataclasses.asdict(config).items() if v is not None}

    def __call__(self, **inputs):
        return self.inner(**inputs)

    def print_trainable_parameters(self):
        print("trainable params: (stand-in)")


peft.get_peft_model = lambda model, config: PeftWrapped(model, config)


class Loaded:
    @staticmethod
    def from_pretrained(model, path):
        seen["adapter"] = path
        return types.SimpleNamespace(merge_and_unload=lambda: model)


peft.PeftModel = Loaded


def install(new):
    sys.modules.update(torch=torch, datasets=datasets, transformers=make_transformers(new), peft=peft)


mode = sys.argv[1]
if mode == "train":
    flavour, run_dir, out_path = sys.argv[2:5]
    install(flavour == "new")
    sys.argv = ["train.py", "--config", os.path.join(run_dir, "config.yaml")]
    runpy.run_path(os.path.join(run_dir, "train.py"), run_name="__main__")
elif mode == "loss":
    run_dir, loss, logits, labels = sys.argv[2:6]
    install(True)
    module = runpy.run_path(os.path.join(run_dir, "train.py"), run_name="standin")
    logits, labels = json.loads(logits), json.loads(labels)
    n = len(logits[0])
    print(json.dumps(module["head_loss"]("classify" if loss != "mse" else "regress", loss, T(logits), T(labels), n).item()))
elif mode == "package":
    run_dir, llama_cpp, out_path = sys.argv[2:5]
    install(True)
    sys.argv = ["package.py", "--config", os.path.join(run_dir, "config.yaml"), "--llama-cpp", llama_cpp]
    runpy.run_path(os.path.join(run_dir, "package.py"), run_name="__main__")
    write_seen()
