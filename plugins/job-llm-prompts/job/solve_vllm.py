#!/usr/bin/env python3
"""horde llm-prompts job, REAL SOLVER: answers every prompt of a series with a pinned model through
vLLM, deterministically from the job's seed, with the same command line and output as the stand-in
(`solve.mjs`):

    solve_vllm.py [--temperature=0.5] [--top-p=0.8] [--max-tokens=256] --seed <seed> /volume/<series>.txt

Input:  the prompts file, one prompt per line.
Output: $HORDE_OUTPUT_DIR/<series>.json (default /output), a JSON object prompt -> answer.

Determinism: every prompt is sampled with `SamplingParams(seed=<seed>)`, so the same image (model
weights, vLLM, CUDA) on the same GPU model gives the same answers; the validator compares a miner's
answers with its trusted miner's, which runs this image on a card of the same class. The model is
in the image (jobs run without network) and in bf16: a quantised copy that would fit a smaller
card answers differently, so only a card with the VRAM for the full weights passes.
"""
import argparse
import json
import os
import sys
from pathlib import Path

MODEL_DIR = os.environ.get("HORDE_LLM_MODEL_DIR", "/model")


def parse_args(argv):
    parser = argparse.ArgumentParser(description="answer a prompt series with a seeded LLM")
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--top-p", type=float, default=0.8)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--seed", required=True)
    parser.add_argument("prompts_file")
    return parser.parse_args(argv)


def seed_number(seed):
    """vLLM wants an integer seed; the job's seed is a string (hex or decimal)."""
    try:
        return int(seed, 16) % (2**31)
    except ValueError:
        return int.from_bytes(seed.encode("utf-8"), "big") % (2**31)


def input_path(name):
    volume_dir = os.environ.get("HORDE_VOLUME_DIR")
    if volume_dir and name.startswith("/volume/"):
        return Path(volume_dir) / name[len("/volume/"):]
    return Path(name)


def main(argv):
    args = parse_args(argv)
    path = input_path(args.prompts_file)
    prompts = [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]

    # Imported here so --help and argument errors need no GPU.
    from vllm import LLM, SamplingParams

    llm = LLM(model=MODEL_DIR, dtype="bfloat16", seed=seed_number(args.seed), enforce_eager=False)
    params = SamplingParams(
        temperature=args.temperature,
        top_p=args.top_p,
        max_tokens=args.max_tokens,
        seed=seed_number(args.seed),
    )
    conversations = [[{"role": "user", "content": prompt}] for prompt in prompts]
    outputs = llm.chat(conversations, params, use_tqdm=False)
    answers = {prompt: output.outputs[0].text for prompt, output in zip(prompts, outputs)}

    output_dir = Path(os.environ.get("HORDE_OUTPUT_DIR", "/output"))
    output_dir.mkdir(parents=True, exist_ok=True)
    name = path.name[: -len(".txt")] if path.name.endswith(".txt") else path.name
    (output_dir / f"{name}.json").write_text(json.dumps(answers), encoding="utf-8")
    print(f"answered {len(prompts)} prompts")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception as error:  # one line on stderr, like the stand-in
        print(f"llm-prompts: {error}", file=sys.stderr)
        sys.exit(1)
