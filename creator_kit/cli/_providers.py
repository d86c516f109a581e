"""Provider subcommands: ``providers ...``, ``validate`` and ``generate``."""

from __future__ import annotations

import argparse
import functools
import getpass
import sys
from typing import Any

from creator_kit.cli._common import add_json_option, add_workspace_option, print_json, workspace_from_args
from creator_kit.errors import InvalidInputError
from creator_kit.providers import (
    PRESETS,
    describe_key,
    failover_order,
    generate,
    get_provider,
    list_providers,
    make_provider,
    remove_provider,
    save_provider,
    set_failover_order,
    store_key,
    validate_provider,
)
from creator_kit.providers._stream import PricingFunction
from creator_kit.storage import Workspace

__all__ = ["pricing_for", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register ``providers``, ``validate`` and ``generate``."""
    _register_providers(subparsers)

    validate = subparsers.add_parser(
        "validate",
        help="check a provider's key by listing its models (no tokens spent)",
        description="Ask the provider for its model list (GET /models, or the catalog for GitHub "
        "Models) with the stored key. Exit status 1 when the provider rejects the key.",
    )
    validate.add_argument("name", help="provider name")
    add_workspace_option(validate)
    add_json_option(validate)
    validate.set_defaults(func=run_validate)

    gen = subparsers.add_parser(
        "generate",
        help="stream a text generation and record it",
        description="Send PROMPT to a provider, stream the response to stdout and record the run. "
        "Without --provider the run follows the failover order, each provider with its first "
        "listed model.",
    )
    gen.add_argument("prompt", help="the prompt text ('-' reads it from stdin)")
    gen.add_argument("--provider", help="use this provider only")
    gen.add_argument("--model", help="model name (default: the provider's first listed model)")
    gen.add_argument("--title", help="title stored with the run")
    gen.add_argument("--tag", action="append", default=[], help="tag stored with the run (repeatable)")
    gen.add_argument("--template", dest="template_id", help="id of the template the prompt came from")
    gen.add_argument("--deadline", type=float, default=120.0, metavar="SECONDS",
                     help="upper bound of the whole run, retries included (default: 120)")
    add_workspace_option(gen)
    gen.add_argument("--json", action="store_true", help="print the recorded row as JSON instead of the text")
    gen.set_defaults(func=run_generate)


def _register_providers(subparsers: argparse._SubParsersAction) -> None:
    providers = subparsers.add_parser(
        "providers",
        help="configure text providers, their keys and the failover order",
        description="Providers live in the workspace settings; keys live in the environment, "
        "the system keyring or an owner-only file, never in the workspace.",
    )
    actions = providers.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    set_ = actions.add_parser("set", help="add or replace a provider")
    set_.add_argument("name", help="provider name, e.g. openai or local")
    set_.add_argument("--preset", required=True, choices=sorted(PRESETS), help="known service defaults")
    set_.add_argument("--base-url", help="OpenAI-compatible base URL (required for --preset custom)")
    set_.add_argument("--api-key-env", help="environment variable holding the key")
    set_.add_argument("--models", help="comma-separated models; the first is the default")
    add_workspace_option(set_)
    add_json_option(set_)
    set_.set_defaults(func=run_set)

    set_key = actions.add_parser(
        "set-key",
        help="store a provider's key in the keyring or the owner-only file",
        description="Read the key from stdin (or a hidden prompt on a terminal) and store it in "
        "the system keyring, else in keys.json of the config folder with mode 600.",
    )
    set_key.add_argument("name", help="provider name")
    set_key.add_argument("--backend", choices=("auto", "keyring", "file"), default="auto",
                         help="where to store the key (default: keyring, else file)")
    add_workspace_option(set_key)
    set_key.set_defaults(func=run_set_key)

    failover = actions.add_parser("failover", help="set the order in which providers are tried")
    failover.add_argument("names", help="comma-separated provider names, first tried first")
    add_workspace_option(failover)
    add_json_option(failover)
    failover.set_defaults(func=run_failover)

    list_ = actions.add_parser("list", help="list the providers, where their keys come from and the order")
    add_workspace_option(list_)
    add_json_option(list_)
    list_.set_defaults(func=run_list)

    remove = actions.add_parser("remove", help="remove a provider (its stored key stays)")
    remove.add_argument("name", help="provider name")
    add_workspace_option(remove)
    remove.set_defaults(func=run_remove)


def run_set(args: argparse.Namespace) -> int:
    """Save a provider built from a preset and the options."""
    workspace = workspace_from_args(args)
    models = args.models.split(",") if args.models else None
    config = make_provider(
        args.name, preset=args.preset, base_url=args.base_url, api_key_env=args.api_key_env, models=models
    )
    save_provider(workspace, config)
    if args.json:
        print_json(_describe(config, workspace))
    else:
        print(f"saved provider {config.name} ({config.preset}, {config.base_url}, models: {', '.join(config.models)})")
    return 0


def run_set_key(args: argparse.Namespace) -> int:
    """Store a key read from stdin or a hidden prompt."""
    workspace = workspace_from_args(args)
    get_provider(workspace, args.name)
    if sys.stdin.isatty():
        key = getpass.getpass(f"key for {args.name}: ")
    else:
        key = sys.stdin.readline()
    where = store_key(args.name, key, backend=args.backend)
    print(f"stored the key of {args.name} in the {'system keyring' if where == 'keyring' else 'owner-only file'}")
    return 0


def run_failover(args: argparse.Namespace) -> int:
    """Save the failover order."""
    order = set_failover_order(workspace_from_args(args), args.names.split(","))
    if args.json:
        print_json({"failover_order": order})
    else:
        print("failover order: " + " -> ".join(order))
    return 0


def run_list(args: argparse.Namespace) -> int:
    """List the providers with masked keys."""
    workspace = workspace_from_args(args)
    described = [_describe(config, workspace) for config in list_providers(workspace)]
    order = failover_order(workspace)
    if args.json:
        print_json({"providers": described, "failover_order": order})
        return 0
    if not described:
        print("no providers; add one with: creator-kit providers set NAME --preset openai")
        return 0
    for item in described:
        status = {True: "valid", False: "invalid", None: "not validated"}[item["validated"]]
        key = f"key {item['key']} from {item['key_source']}" if item["key_source"] else "no key"
        print(f"{item['name']:<16} {item['preset']:<14} {item['base_url']}  [{', '.join(item['models'])}]  {key}, {status}")
    print("failover order: " + (" -> ".join(order) or "(none)"))
    return 0


def run_remove(args: argparse.Namespace) -> int:
    """Remove a provider from the workspace."""
    remove_provider(workspace_from_args(args), args.name)
    print(f"removed provider {args.name}")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """Validate a provider's key; exit status 1 when it is rejected."""
    result = validate_provider(workspace_from_args(args), args.name)
    if args.json:
        print_json(result.to_dict())
    else:
        print(("valid: " if result.valid else "invalid: ") + result.message)
    return 0 if result.valid else 1


def run_generate(args: argparse.Namespace) -> int:
    """Stream a generation; exit status 1 when it failed."""
    workspace = workspace_from_args(args)
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not prompt.strip():
        raise InvalidInputError("the prompt is empty; pass the text or '-' to read it from stdin")

    def write(delta: str) -> None:
        sys.stdout.write(delta)
        sys.stdout.flush()

    result = generate(
        prompt,
        workspace=workspace,
        provider=args.provider,
        model=args.model,
        title=args.title,
        tags=args.tag,
        template_id=args.template_id,
        deadline_s=args.deadline,
        pricing=pricing_for(workspace),
        on_delta=None if args.json else write,
        source="cli",
    )
    if args.json:
        print_json(result.to_row())
    else:
        if result.output:
            sys.stdout.write("\n")
        print(_summary(result), file=sys.stderr)
    if result.status == "failed":
        print(f"error: {result.error_message}", file=sys.stderr)
        return 1
    return 0


def pricing_for(workspace: Workspace) -> PricingFunction | None:
    """Return the cost estimator with the workspace's price overrides, if analytics has one."""
    try:
        from creator_kit.analytics import estimate_cost
    except ImportError:
        return None
    overrides = workspace.read_settings().get("price_overrides") or None
    return functools.partial(estimate_cost, overrides=overrides)


def _describe(config: Any, workspace: Workspace) -> dict[str, Any]:
    key = describe_key(config)
    return {
        "name": config.name,
        "preset": config.preset,
        "base_url": config.base_url,
        "api_key_env": config.api_key_env,
        "models": list(config.models),
        "key": key.masked or None,
        "key_source": key.source,
        "validated": config.validated,
        "validated_at": config.validated_at,
    }


def _summary(result: Any) -> str:
    parts = [f"{result.status} via {result.provider}/{result.model}"]
    if result.failover_from:
        parts.append(f"after failing over from {result.failover_from}")
    tokens = f"{result.prompt_tokens or 0}+{result.completion_tokens or 0} tokens"
    parts.append(tokens + (" (estimated)" if result.usage_estimated else ""))
    if result.ttft_ms is not None:
        parts.append(f"TTFT {result.ttft_ms:.0f} ms")
    parts.append(f"total {result.latency_ms:.0f} ms")
    if result.cost_usd is not None:
        parts.append(f"${result.cost_usd:.6f}")
    return ", ".join(parts)
