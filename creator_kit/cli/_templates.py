"""``creator-kit templates``: list, search, show, render, add, edit, history, rate, import."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from creator_kit import templates
from creator_kit.cli._common import (
    add_json_option,
    add_workspace_option,
    print_json,
    workspace_from_args,
)
from creator_kit.errors import InvalidInputError

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register ``creator-kit templates`` and its subcommands."""
    parser = subparsers.add_parser(
        "templates",
        help="browse, render and manage prompt templates",
        description="Browse, render and manage prompt templates.",
    )
    commands = parser.add_subparsers(dest="templates_command", metavar="SUBCOMMAND")
    commands.required = True

    list_parser = _add(commands, "list", "list templates with their usage and rating", _run_list)
    _add_filters(list_parser)

    search = _add(commands, "search", "find templates by words in title, tags, description, prompt", _run_list)
    search.add_argument("query", help="words that must all occur in the template")
    _add_filters(search)

    show = _add(commands, "show", "show one template with its placeholders", _run_show)
    show.add_argument("template_id", metavar="ID")

    render = _add(commands, "render", "print a template's prompt with its placeholders filled", _run_render)
    render.add_argument("template_id", metavar="ID")
    render.add_argument(
        "--set",
        dest="values",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="value of one placeholder; repeat for each (defaults fill the rest)",
    )

    add = _add(commands, "add", "create a template of your own", _run_add)
    add.add_argument("--title", required=True)
    _add_prompt_options(add, required=True)
    add.add_argument("--category", required=True, choices=templates.CATEGORIES)
    add.add_argument("--description", default="", help="one line saying what the template is for")
    add.add_argument("--tags", default="", help="comma-separated tags")
    add.add_argument("--difficulty", default="easy", choices=templates.DIFFICULTIES)
    add.add_argument("--kind", default="text", choices=templates.KINDS)

    edit = _add(commands, "edit", "store a new version of one of your templates", _run_edit)
    edit.add_argument("template_id", metavar="ID")
    edit.add_argument("--title")
    _add_prompt_options(edit, required=False)
    edit.add_argument("--category", choices=templates.CATEGORIES)
    edit.add_argument("--description")
    edit.add_argument("--tags", help="comma-separated tags (replaces the current ones)")
    edit.add_argument("--difficulty", choices=templates.DIFFICULTIES)
    edit.add_argument("--kind", choices=templates.KINDS)

    history = _add(commands, "history", "list the versions of one of your templates", _run_history)
    history.add_argument("template_id", metavar="ID")
    history.add_argument(
        "--diff",
        nargs=2,
        type=int,
        metavar=("OLD", "NEW"),
        help="print the differences between two versions instead",
    )

    archive = _add(commands, "archive", "archive one of your templates", _run_archive)
    archive.add_argument("template_id", metavar="ID")

    restore = _add(commands, "restore", "store a new version equal to an old one", _run_restore)
    restore.add_argument("template_id", metavar="ID")
    restore.add_argument(
        "version", type=int, nargs="?", help="version to restore (default: the latest, un-archiving it)"
    )

    rate = _add(commands, "rate", "rate a template from 1 to 5 (the latest rating counts)", _run_rate)
    rate.add_argument("template_id", metavar="ID")
    rate.add_argument("rating", type=int, choices=range(1, 6), metavar="RATING")

    load = _add(commands, "import", "import a public prompt collection", _run_import)
    load.add_argument("file", type=Path, metavar="FILE")
    load.add_argument("--format", required=True, choices=templates.IMPORT_FORMATS)


def _add(
    commands: argparse._SubParsersAction, name: str, help_text: str, func: object
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=help_text[:1].upper() + help_text[1:] + ".")
    add_workspace_option(parser)
    add_json_option(parser)
    parser.set_defaults(func=func)
    return parser


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--category", choices=(*templates.CATEGORIES, templates.IMPORTED_CATEGORY))
    parser.add_argument("--tag", help="keep templates with this tag")
    parser.add_argument("--difficulty", choices=templates.DIFFICULTIES)
    parser.add_argument("--kind", choices=templates.KINDS)
    parser.add_argument("--sort", choices=templates.SORTS, default="relevance")
    parser.add_argument("--limit", type=int, help="print at most this many templates")
    parser.add_argument("--archived", action="store_true", help="include archived templates")


def _add_prompt_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--prompt", help="prompt text with {placeholders}; {{ and }} for literal braces")
    group.add_argument("--prompt-file", type=Path, metavar="FILE", help="read the prompt from FILE")


def _run_list(args: argparse.Namespace) -> int:
    entries = templates.search_templates(
        workspace_from_args(args),
        getattr(args, "query", ""),
        category=args.category,
        tag=args.tag,
        difficulty=args.difficulty,
        kind=args.kind,
        sort=args.sort,
        include_archived=args.archived,
    )
    if args.limit is not None:
        entries = entries[: max(args.limit, 0)]
    if args.json:
        print_json([entry.to_dict() for entry in entries])
        return 0
    for entry in entries:
        template, stats = entry.template, entry.stats
        rating = f"{stats.rating}/5" if stats.rating else "unrated"
        print(
            f"{template.id}\t{template.title}\t{template.category}\t{template.difficulty}\t"
            f"{template.kind}\t{stats.uses} uses\t{rating}"
        )
    return 0


def _run_show(args: argparse.Namespace) -> int:
    workspace = workspace_from_args(args)
    template = templates.get_template(workspace, args.template_id)
    stats = templates.template_stats(workspace).get(template.id, templates.TemplateStats())
    placeholders = templates.placeholders(template)
    if args.json:
        data = {**template.to_dict(), **stats.to_dict()}
        data["placeholders"] = [{"name": p.name, "default": p.default} for p in placeholders]
        print_json(data)
        return 0
    print(f"{template.title}  ({template.id}, version {template.version})")
    print(template.description)
    print(f"category: {template.category}   difficulty: {template.difficulty}   kind: {template.kind}")
    print(f"tags: {', '.join(template.tags) or '-'}   uses: {stats.uses}   rating: {stats.rating or '-'}")
    for placeholder in placeholders:
        default = "" if placeholder.default is None else f" (default: {placeholder.default})"
        print(f"  {{{placeholder.name}}}{default}")
    print()
    print(template.prompt)
    return 0


def _run_render(args: argparse.Namespace) -> int:
    values: dict[str, str] = {}
    for item in args.values:
        name, equals, value = item.partition("=")
        if not equals:
            raise InvalidInputError(f"--set {item!r} has no '='; write --set NAME=VALUE")
        values[name.strip()] = value
    template = templates.get_template(workspace_from_args(args), args.template_id)
    text = templates.render(template, values)
    if args.json:
        print_json({"id": template.id, "version": template.version, "prompt": text})
    else:
        # Exactly the text that would be sent: no newline is added.
        sys.stdout.write(text)
    return 0


def _run_add(args: argparse.Namespace) -> int:
    template = templates.create_template(
        workspace_from_args(args),
        title=args.title,
        prompt=_prompt(args),
        category=args.category,
        description=args.description,
        tags=args.tags,
        difficulty=args.difficulty,
        kind=args.kind,
    )
    _print_template(args, template, "created")
    return 0


def _run_edit(args: argparse.Namespace) -> int:
    changes = {
        name: getattr(args, name)
        for name in ("title", "category", "description", "tags", "difficulty", "kind")
        if getattr(args, name) is not None
    }
    prompt = _prompt(args)
    if prompt is not None:
        changes["prompt"] = prompt
    if not changes:
        raise InvalidInputError("nothing to edit; give at least one of --title, --prompt, --tags, ...")
    template = templates.edit_template(workspace_from_args(args), args.template_id, **changes)
    _print_template(args, template, "stored version")
    return 0


def _run_history(args: argparse.Namespace) -> int:
    workspace = workspace_from_args(args)
    if args.diff:
        diff = templates.compare_versions(workspace, args.template_id, args.diff[0], args.diff[1])
        if args.json:
            print_json({"id": args.template_id, "old": args.diff[0], "new": args.diff[1], "diff": diff})
        else:
            print(diff or "the versions are equal")
        return 0
    history = templates.template_history(workspace, args.template_id)
    if args.json:
        print_json([template.to_dict() for template in history])
        return 0
    for template in history:
        state = "archived" if template.archived else "active"
        print(f"v{template.version}\t{template.recorded_at:%Y-%m-%d %H:%M:%S}\t{state}\t{template.title}")
    return 0


def _run_archive(args: argparse.Namespace) -> int:
    template = templates.archive_template(workspace_from_args(args), args.template_id)
    _print_template(args, template, "archived as version")
    return 0


def _run_restore(args: argparse.Namespace) -> int:
    template = templates.restore_template(workspace_from_args(args), args.template_id, args.version)
    _print_template(args, template, "restored as version")
    return 0


def _run_rate(args: argparse.Namespace) -> int:
    workspace = workspace_from_args(args)
    templates.rate_template(workspace, args.template_id, args.rating)
    if args.json:
        print_json({"id": args.template_id, "rating": args.rating})
    else:
        print(f"rated {args.template_id} {args.rating}/5")
    return 0


def _run_import(args: argparse.Namespace) -> int:
    report = templates.import_templates(workspace_from_args(args), args.file, format=args.format)
    if args.json:
        print_json(report.to_dict())
    else:
        print(
            f"read {report.rows} prompts: {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged"
        )
    return 0


def _prompt(args: argparse.Namespace) -> str | None:
    if args.prompt_file is None:
        return args.prompt
    try:
        return args.prompt_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot read prompt file {str(args.prompt_file)!r}: {exc.strerror}") from exc


def _print_template(args: argparse.Namespace, template: templates.Template, action: str) -> None:
    if args.json:
        print_json(template.to_dict())
    elif action == "created":
        print(f"created {template.id}")
    else:
        print(f"{template.id}: {action} {template.version}")
