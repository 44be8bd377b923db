"""The judge benchmark's comparison: the same faithfulness judgments through
Arize Phoenix evals against the same mock provider. Prints one JSON line:
{"version", "n", "wall_secs", "cpu_secs"}."""

import argparse
import asyncio
import json
import resource
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    # Phoenix's own client-side rate limiter starts at this rate and adapts;
    # left unset it starts far below the mock's limit.
    parser.add_argument("--initial-rate", type=float, default=None)
    args = parser.parse_args()

    import pandas as pd
    import phoenix.evals
    from phoenix.evals import LLM, async_evaluate_dataframe
    from phoenix.evals.metrics import FaithfulnessEvaluator

    extra = {}
    if args.initial_rate is not None:
        extra["initial_per_second_request_rate"] = args.initial_rate
    llm = LLM(
        provider="openai",
        model="mock-judge",
        **extra,
        sync_client_kwargs={"base_url": args.base_url, "api_key": "bench-key"},
        async_client_kwargs={"base_url": args.base_url, "api_key": "bench-key"},
    )
    evaluator = FaithfulnessEvaluator(llm=llm)
    rows = [
        {
            "input": f"How do I reset the password of account {i}?",
            "output": f"Open Settings, choose Security and press Reset password for account {i}.",
            "context": "Passwords are reset from Settings > Security.",
        }
        for i in range(args.n)
    ]
    frame = pd.DataFrame(rows)
    started = time.monotonic()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    result = asyncio.run(
        async_evaluate_dataframe(
            dataframe=frame, evaluators=[evaluator], concurrency=args.concurrency, hide_tqdm_bar=True
        )
    )
    wall = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    print(json.dumps({
        "version": getattr(phoenix.evals, "__version__", "unknown"),
        "initial_rate": args.initial_rate,
        "n": len(result),
        "wall_secs": wall,
        "cpu_secs": cpu,
    }))


if __name__ == "__main__":
    main()
