"""The `vulndesk` command: what an operator and a maintainer type.

Each subcommand is a small function over the same ``do_*`` actions the web and API use.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import django
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from vulndesk.projects.models import Project
    from vulndesk.projects.policy import Policy

Handler = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """A refusal to show the operator: printed without a traceback, exit status 2."""


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vulndesk.settings")
    django.setup()


def _out(text: str, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


# --- database and first run -------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    from django.conf import settings  # noqa: PLC0415 - Django is set up by now
    from django.core.management import call_command  # noqa: PLC0415

    from vulndesk.config import narrow_data_dir  # noqa: PLC0415

    call_command("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    _out("Database is up to date.")
    # An upgrade: files an older version wrote under a wider umask become the owner's alone.
    narrowed = narrow_data_dir(settings.DATA_DIR)
    if narrowed:
        _out(f"Made {narrowed} files and folders in the data directory readable by their owner only.")
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    """Migrate, load the example projects into an empty database, and make the first admin."""
    from vulndesk.bootstrap import create_first_admin, load_example_projects  # noqa: PLC0415
    from vulndesk.demo import load_demo_cases  # noqa: PLC0415

    cmd_migrate(args)
    projects = load_example_projects(Path(args.examples))
    for project in projects:
        _out(f"Loaded example project {project.slug}.")
    if projects:
        count = load_demo_cases(projects)
        _out(f"Loaded {count} example reports per project and one published example advisory each.")
    created = create_first_admin(args.admin_email)
    if created is not None:
        _out(f"Created administrator {created.email} with password: {created.password}")
        _out("This password is shown once. Change it after signing in.")
    return 0


# --- accounts ---------------------------------------------------------------------------------


def cmd_user_create(args: argparse.Namespace) -> int:
    from vulndesk.accounts.actions import AccountError, do_create_user  # noqa: PLC0415
    from vulndesk.accounts.permissions import Role  # noqa: PLC0415

    project = _project_or_none(args.project)
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else secrets.token_urlsafe(15)
    try:
        user = do_create_user(
            args.email, role=Role(args.role), project=project, password=password, acting_user=None
        )
    except AccountError as exc:
        raise CommandError(str(exc)) from None
    where = f" on {project.slug}" if project else ""
    _out(f"Created {args.role}{where}: {user.email}")
    if not args.password_stdin:
        _out(f"Password (shown once): {password}")
    return 0


def cmd_user_unlock(args: argparse.Namespace) -> int:
    from vulndesk.accounts.actions import do_unlock  # noqa: PLC0415

    was_locked = do_unlock(args.email, acting_user=None)
    _out(f"{args.email}: unlocked" if was_locked else f"{args.email}: was not locked")
    return 0


def cmd_user_reset_password(args: argparse.Namespace) -> int:
    from vulndesk.accounts.actions.password_reset import do_send_password_reset  # noqa: PLC0415
    from vulndesk.accounts.models import User  # noqa: PLC0415

    user = User.objects.filter(email__iexact=args.email, is_active=True).first()
    if user is None:
        raise CommandError(f"no active account for {args.email}")
    do_send_password_reset(user, acting_user=None)
    _out(f"{user.email}: a link to choose a new password was mailed (it works once, for an hour)")
    _out("Their authenticator stays: signing in still needs a code from it.")
    return 0


def cmd_user_reset_mfa(args: argparse.Namespace) -> int:
    from vulndesk.accounts.actions import do_reset_second_factor  # noqa: PLC0415
    from vulndesk.accounts.models import User  # noqa: PLC0415

    user = User.objects.filter(email__iexact=args.email).first()
    if user is None:
        raise CommandError(f"no account for {args.email}")
    do_reset_second_factor(user, acting_user=None)
    _out(f"{user.email}: authenticator and recovery codes removed; set up again at the next sign-in")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    import datetime as dt  # noqa: PLC0415

    from django.utils import timezone  # noqa: PLC0415

    from vulndesk.accounts.actions import AccountError, do_create_api_token  # noqa: PLC0415
    from vulndesk.accounts.models import User  # noqa: PLC0415
    from vulndesk.accounts.permissions import Permission  # noqa: PLC0415

    user = User.objects.filter(email__iexact=args.email, is_active=True).first()
    if user is None:
        raise CommandError(f"no active account for {args.email}")
    try:
        scopes = [Permission(s) for s in args.scope]
    except ValueError as exc:
        raise CommandError(f"unknown scope: {exc}") from None
    expires = timezone.now() + dt.timedelta(days=args.expires_days) if args.expires_days else None
    try:
        issued = do_create_api_token(
            user, name=args.name, scopes=scopes, expires_at=expires, acting_user=None
        )
    except AccountError as exc:
        raise CommandError(str(exc)) from None
    _out(issued.raw)
    _out(f"Token {issued.token.prefix}… for {user.email} (shown once; stored hashed).", sys.stderr)
    return 0


# --- projects and policies --------------------------------------------------------------------


def _read_policy(path: str) -> Policy:
    from vulndesk.projects.policy import PolicyError, parse_policy_toml  # noqa: PLC0415

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot read the file ({exc})") from None
    try:
        return parse_policy_toml(text)
    except PolicyError as exc:
        problems = "\n".join(f"  {problem}" for problem in exc.problems)
        raise CommandError(f"{path}: the policy is not valid:\n{problems}") from None


def cmd_policy_check(args: argparse.Namespace) -> int:
    policy = _read_policy(args.file)
    _out(f"{args.file}: valid policy for {policy.project.slug}.")
    return 0


def cmd_policy_import(args: argparse.Namespace) -> int:
    from vulndesk.projects.actions import do_import_policy  # noqa: PLC0415

    policy = _read_policy(args.file)
    project = do_import_policy(policy, acting_user=None)
    _out(f"Imported {project.slug} (policy version {project.policy_version}).")
    return 0


def cmd_policy_export(args: argparse.Namespace) -> int:
    project = _project_or_none(args.slug)
    if project is None:
        raise CommandError("name a project")
    sys.stdout.write(project.policy.as_toml())
    return 0


def cmd_project_list(_args: argparse.Namespace) -> int:
    from vulndesk.projects.models import Project  # noqa: PLC0415

    projects = Project.objects.order_by("slug")
    if not projects:
        _out("No projects yet. Import a policy with: vulndesk policy import FILE")
    for project in projects:
        tag = " (example)" if project.is_example else ""
        _out(f"{project.slug:24} {project.name}{tag} - policy v{project.policy_version}")
    return 0


def _project_or_none(slug: str | None) -> Project | None:
    if slug is None:
        return None
    from vulndesk.projects.models import Project  # noqa: PLC0415

    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise CommandError(f"no project {slug!r} (see: vulndesk project list)")
    return project


# --- advisories -------------------------------------------------------------------------------


def cmd_advisory_list(args: argparse.Namespace) -> int:
    from vulndesk.advisories.exports.published import published_advisories  # noqa: PLC0415

    advisories = published_advisories(_project_or_none(args.project))
    if not advisories:
        _out("No published advisories.")
    for advisory in advisories:
        published = advisory.published_at.strftime("%Y-%m-%d %H:%M UTC") if advisory.published_at else ""
        tag = " (withdrawn)" if advisory.withdrawn_at else ""
        _out(
            f"{advisory.public_id:24} {advisory.project.slug:20} {published:21} {advisory.public_title}{tag}"
        )
    return 0


def cmd_advisory_publish(args: argparse.Namespace) -> int:
    """The operator publishes by hand, under the same embargo rule as the desk and the API."""
    from vulndesk.advisories.actions import do_publish_advisory  # noqa: PLC0415
    from vulndesk.advisories.content import AdvisoryError  # noqa: PLC0415
    from vulndesk.advisories.models import Advisory  # noqa: PLC0415
    from vulndesk.embargo.models import EarlyDisclosure, ExitReason  # noqa: PLC0415

    project = _project_or_none(args.project)
    advisory = Advisory.objects.filter(project=project, identifier=args.identifier).first()
    if advisory is None:
        raise CommandError(f"no advisory {args.identifier!r} in {args.project}")
    early = None
    if args.early_disclosure:
        if args.early_disclosure not in ExitReason.values:
            raise CommandError(f"--early-disclosure: {args.early_disclosure!r} is not a reason (see --help)")
        early = EarlyDisclosure(reason=ExitReason(args.early_disclosure), note=args.note)
    try:
        published = do_publish_advisory(advisory, acting_user=None, early_disclosure=early)
    except AdvisoryError as exc:
        raise CommandError("not published: " + "; ".join(exc.problems)) from None
    _out(f"Published {published.identifier} at {published.published_at:%Y-%m-%d %H:%M} UTC.")
    return 0


def cmd_advisory_export(args: argparse.Namespace) -> int:
    from vulndesk.advisories.exports.context import ExportError  # noqa: PLC0415
    from vulndesk.advisories.exports.published import (  # noqa: PLC0415
        AmbiguousAdvisoryError,
        export_advisory,
        find_published,
    )

    try:
        advisory = find_published(args.identifier, _project_or_none(args.project))
    except AmbiguousAdvisoryError as exc:
        raise CommandError(str(exc)) from None
    if advisory is None:
        raise CommandError(f"no published advisory {args.identifier!r} (see: vulndesk advisory list)")
    try:
        body = export_advisory(advisory, args.format)
    except ExportError as exc:
        raise CommandError(f"{args.identifier} cannot be exported as {args.format}: {exc}") from None
    sys.stdout.write(body.decode())
    return 0


# --- audit ------------------------------------------------------------------------------------


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from vulndesk.audit.actions import verify_chain  # noqa: PLC0415
    from vulndesk.audit.models import AuditEvent  # noqa: PLC0415

    broken = verify_chain()
    if broken is not None:
        _out(f"Audit chain broken: {broken.reason}.", sys.stderr)
        return 1
    if args.against is not None and not _verify_against(Path(args.against)):
        return 1
    head = AuditEvent.objects.order_by("-seq").first()
    _out(f"Audit chain intact: {AuditEvent.objects.count()} events.")
    if head is not None:
        # Kept somewhere the database's writers cannot reach, it shows a later rewrite of history.
        _out(f"Head: #{head.seq} {head.hash}")
    return 0


def _verify_against(path: Path) -> bool:
    from vulndesk.audit.checkpoints import verify_against  # noqa: PLC0415

    try:
        read, findings = verify_against(path)
    except OSError as exc:
        _out(f"Cannot read the checkpoints in {path}: {exc.strerror}.", sys.stderr)
        return False
    for finding in findings:
        _out(f"Audit log does not match checkpoint line {finding.line}: {finding.problem}.", sys.stderr)
    if read == 0:
        _out(f"No checkpoint in {path}.", sys.stderr)
        return False
    if not findings:
        _out(f"Audit log matches all {read} checkpoints in {path}.")
    return not findings


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    from django.conf import settings  # noqa: PLC0415

    from vulndesk.audit.checkpoints import CheckpointError, write_checkpoint  # noqa: PLC0415

    try:
        written = write_checkpoint(args.to)
    except CheckpointError as exc:
        _out(f"No checkpoint written: {exc}.", sys.stderr)
        return 1
    where = args.to or settings.AUDIT_CHECKPOINT_TO
    _out(f"Checkpoint written at #{written['event_count']} ({written['written_at']}) to {where}.")
    return 0


# --- metrics ----------------------------------------------------------------------------------


def cmd_metrics_refresh(_args: argparse.Namespace) -> int:
    from vulndesk.cases.metrics_snapshots import refresh_metrics  # noqa: PLC0415

    _out(f"Metrics refreshed for {refresh_metrics()} scopes (the instance and each project).")
    return 0


# --- keys -------------------------------------------------------------------------------------


def cmd_keys_rotate(_args: argparse.Namespace) -> int:
    from vulndesk.rotation import do_rotate_keys, keys_in_use  # noqa: PLC0415

    do_rotate_keys(acting_user=None, on_progress=lambda column, count: _out(f"{column}: re-sealed {count}"))
    _out("Values per key id now: " + ", ".join(f"{kid}={n}" for kid, n in sorted(keys_in_use().items())))
    return 0


def cmd_keys_reindex(_args: argparse.Namespace) -> int:
    from vulndesk.rotation import do_reindex  # noqa: PLC0415

    do_reindex(acting_user=None, on_progress=lambda what, count: _out(f"{what}: recomputed {count}"))
    return 0


# --- OpenPGP keys of projects ------------------------------------------------------------------


def cmd_key_generate(args: argparse.Namespace) -> int:
    from vulndesk.openpgp.actions import ProjectKeyError, do_generate_project_key  # noqa: PLC0415

    project = _project_or_none(args.slug)
    if project is None:
        raise CommandError("name a project")
    try:
        key = do_generate_project_key(project, acting_user=None, replace=args.replace)
    except ProjectKeyError as exc:
        raise CommandError(str(exc)) from None
    _out(f"Generated the OpenPGP key of {project.slug}: {key.spaced_fingerprint}")
    _out("Its public key is in security.txt; print it with: vulndesk key export " + project.slug)
    return 0


def cmd_key_import(args: argparse.Namespace) -> int:
    from vulndesk.openpgp.actions import ProjectKeyError, do_import_project_key  # noqa: PLC0415

    project = _project_or_none(args.slug)
    if project is None:
        raise CommandError("name a project")
    try:
        armored = Path(args.file).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{args.file}: cannot read an armored key ({exc})") from None
    try:
        key = do_import_project_key(project, armored, acting_user=None, replace=args.replace)
    except ProjectKeyError as exc:
        raise CommandError(f"{args.file}: {exc}") from None
    _out(f"Imported the OpenPGP key of {project.slug}: {key.spaced_fingerprint}")
    return 0


def cmd_key_export(args: argparse.Namespace) -> int:
    from vulndesk.openpgp.models import ProjectKey  # noqa: PLC0415

    project = _project_or_none(args.slug)
    key = ProjectKey.objects.filter(project=project).first() if project is not None else None
    if project is None or key is None:
        raise CommandError(f"{args.slug} has no OpenPGP key (see: vulndesk key generate)")
    sys.stdout.write(key.public_key)  # the public key only: the secret never leaves sealed storage
    return 0


# --- processes --------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from vulndesk.serve import ServeOptions, serve  # noqa: PLC0415

    options = ServeOptions(
        host=args.host,
        port=args.port,
        smtp_port=args.smtp_port,
        smtp=not args.no_smtp,
        worker=not args.no_worker,
        web_workers=args.web_workers,
    )
    return serve(options)


def cmd_smtpd(args: argparse.Namespace) -> int:
    from django.conf import settings  # noqa: PLC0415

    from vulndesk.intake.smtpd import run  # noqa: PLC0415

    return run(args.host or settings.SMTP_INTAKE_HOST, args.port or settings.SMTP_INTAKE_PORT)


def cmd_worker(args: argparse.Namespace) -> int:
    from django.core.management import call_command  # noqa: PLC0415

    from vulndesk.audit.tasks import ensure_checkpoints_scheduled  # noqa: PLC0415
    from vulndesk.cases.tasks import ensure_sweep_scheduled  # noqa: PLC0415
    from vulndesk.notify.digest import ensure_digests_scheduled  # noqa: PLC0415
    from vulndesk.worker import recover_abandoned_tasks, worker_id  # noqa: PLC0415

    recover_abandoned_tasks()
    ensure_sweep_scheduled()
    ensure_checkpoints_scheduled()
    ensure_digests_scheduled()
    call_command(
        "db_worker", queue_name="*", reload=False, interval=args.interval, verbosity=0, worker_id=worker_id()
    )
    return 0


# --- the parser -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vulndesk", description="Coordinated vulnerability disclosure desk."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_process_commands(sub)
    _add_account_commands(sub)
    _add_policy_commands(sub)
    return parser


def _add_process_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the web app, the API, the worker and the SMTP intake")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="HTTP port (default: %(default)s)")
    serve.add_argument("--smtp-port", type=int, default=None, help="SMTP intake port (default: 2525)")
    serve.add_argument("--no-smtp", action="store_true", help="do not run the SMTP intake")
    serve.add_argument("--no-worker", action="store_true", help="do not run the background worker")
    serve.add_argument("--web-workers", type=int, default=2, help="web processes (default: %(default)s)")
    serve.set_defaults(handler=cmd_serve)

    worker = sub.add_parser("worker", help="run the background worker alone")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between polls when idle")
    worker.set_defaults(handler=cmd_worker)

    smtpd = sub.add_parser("smtpd", help="run the SMTP intake alone (reports by email)")
    smtpd.add_argument(
        "--host", default=None, help="address to listen on (default: VULNDESK_SMTP_INTAKE_HOST)"
    )
    smtpd.add_argument("--port", type=int, default=None, help="port (default: VULNDESK_SMTP_INTAKE_PORT)")
    smtpd.set_defaults(handler=cmd_smtpd)

    migrate = sub.add_parser("migrate", help="create or update the database tables")
    migrate.add_argument("--verbose", action="store_true")
    migrate.set_defaults(handler=cmd_migrate)

    setup = sub.add_parser(
        "setup", help="migrate, load examples into an empty database, create the first admin"
    )
    setup.add_argument("--examples", default="examples/policies", help="folder of example policies")
    setup.add_argument("--admin-email", default="admin@vulndesk.localhost", help="the first admin's email")
    setup.add_argument("--verbose", action="store_true")
    setup.set_defaults(handler=cmd_setup)

    audit = sub.add_parser("audit", help="the tamper-evident audit log").add_subparsers(
        dest="audit_command", required=True, metavar="ACTION"
    )
    verify = audit.add_parser("verify", help="recompute the hash chain and name the first broken event")
    verify.add_argument(
        "--against",
        metavar="CHECKPOINT_FILE",
        default=None,
        help="also check the log against signed checkpoints",
    )
    verify.set_defaults(handler=cmd_audit_verify)
    checkpoint = audit.add_parser("checkpoint", help="write a signed checkpoint of the chain now")
    checkpoint.add_argument(
        "--to",
        default=None,
        help="a file path, log or mailto:address (default: VULNDESK_AUDIT_CHECKPOINT_TO)",
    )
    checkpoint.set_defaults(handler=cmd_audit_checkpoint)


def _add_account_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    metrics = sub.add_parser("metrics", help="the metrics pages' figures").add_subparsers(
        dest="metrics_command", required=True, metavar="ACTION"
    )
    refresh = metrics.add_parser(
        "refresh", help="compute the figures now, as the worker does every few minutes"
    )
    refresh.set_defaults(handler=cmd_metrics_refresh)

    user = sub.add_parser("user", help="accounts").add_subparsers(
        dest="user_command", required=True, metavar="ACTION"
    )
    create = user.add_parser("create", help="create an admin or a team member (prints a password once)")
    create.add_argument("email")
    create.add_argument("--role", choices=["admin", "team"], required=True)
    create.add_argument("--project", help="the project a team member joins")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.set_defaults(handler=cmd_user_create)
    unlock = user.add_parser("unlock", help="lift a sign-in lock after too many failures (audited)")
    unlock.add_argument("email")
    unlock.set_defaults(handler=cmd_user_unlock)
    reset_password = user.add_parser(
        "reset-password", help="mail a person a link to choose a new password (audited)"
    )
    reset_password.add_argument("email")
    reset_password.set_defaults(handler=cmd_user_reset_password)
    reset = user.add_parser("reset-mfa", help="remove a lost authenticator; the person sets up a new one")
    reset.add_argument("email")
    reset.set_defaults(handler=cmd_user_reset_mfa)

    token = sub.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", required=True, metavar="ACTION"
    )
    token_create = token.add_parser("create", help="issue an API token (printed once, stored hashed)")
    token_create.add_argument("email")
    token_create.add_argument("--name", default="cli", help="a label to recognise the token")
    token_create.add_argument(
        "--expires-days", type=int, default=90, help="0 for no expiry (default: %(default)s)"
    )
    token_create.add_argument(
        "--scope", action="append", default=[], help="limit to a permission; repeatable"
    )
    token_create.set_defaults(handler=cmd_token_create)


def _add_policy_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    policy = sub.add_parser("policy", help="security policies").add_subparsers(
        dest="policy_command", required=True, metavar="ACTION"
    )
    check = policy.add_parser("check", help="validate a policy file without importing it")
    check.add_argument("file")
    check.set_defaults(handler=cmd_policy_check)
    imp = policy.add_parser("import", help="create or update the project a policy file describes")
    imp.add_argument("file")
    imp.set_defaults(handler=cmd_policy_import)
    exp = policy.add_parser("export", help="print a project's policy as TOML")
    exp.add_argument("slug")
    exp.set_defaults(handler=cmd_policy_export)

    keys = sub.add_parser("keys", help="encryption keys at rest").add_subparsers(
        dest="keys_command", required=True, metavar="ACTION"
    )
    keys.add_parser(
        "rotate", help="re-seal stored data with the first key of VULNDESK_ENCRYPTION_KEYS"
    ).set_defaults(handler=cmd_keys_rotate)
    keys.add_parser(
        "reindex", help="after changing VULNDESK_SECRET_KEY: recompute the search index and address digests"
    ).set_defaults(handler=cmd_keys_reindex)

    project = sub.add_parser("project", help="projects").add_subparsers(
        dest="project_command", required=True, metavar="ACTION"
    )
    project.add_parser("list", help="list the projects").set_defaults(handler=cmd_project_list)
    _add_key_commands(sub)
    _add_advisory_commands(sub)


def _add_key_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    key = sub.add_parser("key", help="a project's OpenPGP key, for encrypted reports").add_subparsers(
        dest="key_command", required=True, metavar="ACTION"
    )
    replace_help = "replace the project's current key (mail encrypted to it can no longer be read)"
    generate = key.add_parser("generate", help="generate the project's key (Ed25519, no expiry)")
    generate.add_argument("slug")
    generate.add_argument("--replace", action="store_true", help=replace_help)
    generate.set_defaults(handler=cmd_key_generate)
    imp = key.add_parser("import", help="import the team's secret key (armored, without passphrase)")
    imp.add_argument("slug")
    imp.add_argument("file")
    imp.add_argument("--replace", action="store_true", help=replace_help)
    imp.set_defaults(handler=cmd_key_import)
    exp = key.add_parser("export", help="print the project's public key")
    exp.add_argument("slug")
    exp.set_defaults(handler=cmd_key_export)


def _add_advisory_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from vulndesk.advisories.exports import FORMAT_NAMES  # noqa: PLC0415 - importable before Django is set up

    advisory = sub.add_parser("advisory", help="published advisories and their exports").add_subparsers(
        dest="advisory_command", required=True, metavar="ACTION"
    )
    listing = advisory.add_parser("list", help="list the published advisories and their ids")
    listing.add_argument("--project", metavar="SLUG", help="only this project's advisories")
    listing.set_defaults(handler=cmd_advisory_list)
    export = advisory.add_parser(
        "export", help="print a published advisory as OSV, CVE, CSAF or OpenVEX JSON"
    )
    export.add_argument("identifier", metavar="ID", help="the advisory's id, as `advisory list` prints it")
    export.add_argument("--format", required=True, choices=FORMAT_NAMES, help="the export format")
    export.add_argument("--project", metavar="SLUG", help="the project, when two projects use the same id")
    export.set_defaults(handler=cmd_advisory_export)
    publish = advisory.add_parser(
        "publish", help="publish an approved advisory (before the embargo end: with --early-disclosure)"
    )
    publish.add_argument("identifier", metavar="ID", help="the advisory's id (x_PREFIX-YEAR-NNNN)")
    publish.add_argument("--project", metavar="SLUG", required=True, help="the advisory's project")
    publish.add_argument(
        "--early-disclosure",
        metavar="REASON",
        help="publish before the agreed embargo end, because: public, exploit_published, "
        "attacks_observed, reporter_agreed or early_other (the embargo ends at once; the reporter "
        "and distributors are told the reason)",
    )
    publish.add_argument("--note", default="", help="the reason in your words (needed for early_other)")
    publish.set_defaults(handler=cmd_advisory_publish)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _setup_django()
        handler: Handler = args.handler
        return handler(args)
    except CommandError as exc:
        _out(f"vulndesk: {exc}", sys.stderr)
        return 2
    except ImproperlyConfigured as exc:
        _out(f"vulndesk: configuration error: {exc}", sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
