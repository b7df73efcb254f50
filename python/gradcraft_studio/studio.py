"""Studio: gradient balancing plus the live link to VS Code, in a few lines of a PyTorch loop.

::

    studio = Studio(model, shared=model.bottom, tasks=["click", "like"], optimizer=optimizer)
    for batch in loader:
        losses = model.task_losses(batch)        # K scalar tensors
        studio.backward(losses)                  # per-task gradients, Gram matrix, weights, .grad set
        optimizer.step(); optimizer.zero_grad()
        if not studio.end_step():                # streams the step; applies VS Code's commands
            break
    studio.close()                               # or `with Studio(...) as studio:`

What each call costs and how a run shows in VS Code: docs/pytorch.md.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, Sized

import torch

from . import _messages, launch
from ._commands import Boundary, CommandRefused
from .balance import Balancer, BalanceReport
from .link.protocol import definitions, message
from .link.trainer import TrainerLink
from .metrics import evaluate_tasks
from .runfolder import FILES, create_run_dir, write_json

__version__ = "0.1.0"

Evaluation = Callable[[str], Sequence[Any]]
Checkpoint = Callable[[int, str], None]


class Studio:
    """Balances a multi-task model's gradients and reports every step to GradCraft Studio.

    Args:
        model: the whole multi-task model.
        shared: the shared part (a module, or its parameters): its gradient is balanced.
        tasks: task names, in the order of the losses given to ``backward``.
        strategy, params: the balancing strategy and its parameters (docs/strategies.md).
        towers: each task's own module or parameters (default: the model minus ``shared``,
            divided by the Balancer); they get their own task's gradient.
        optimizer: lets VS Code change the learning rate and L2 (its ``param_groups``) and is
            saved in the default checkpoint.
        on_evaluate: ``on_evaluate(split) -> (probabilities, labels[, users])``, N×K each; called for
            "Evaluate Now", and every ``eval_every`` steps on "validation".
        on_checkpoint: ``on_checkpoint(step, folder)`` writes a checkpoint into ``folder``; by
            default the Studio saves the model, the optimizer and the Balancer there.
        name: the run's name (default: the script's name); runs_folder: where its folder goes.
        record: False writes no run folder. listen: serve the attach socket (default: when not
            started by VS Code). config: a ``*.gradcraft.json`` whose strategy and training
            settings override the arguments above (VS Code passes the one it started).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        shared: Any,
        tasks: Sequence[str],
        strategy: str = "gradcraft",
        params: Mapping[str, Any] | None = None,
        towers: Mapping[str, Any] | None = None,
        optimizer: torch.optim.Optimizer | None = None,
        on_evaluate: Evaluation | None = None,
        on_checkpoint: Checkpoint | None = None,
        eval_every: int | None = None,
        clip_norm: float = 0.0,
        max_steps: int | None = None,
        max_non_finite_steps: int = 5,
        name: str | None = None,
        runs_folder: str | None = None,
        record: bool = True,
        listen: bool | None = None,
        stdio: bool | None = None,
        config: str | None = None,
        process_group: Any = None,
    ) -> None:
        env = launch.from_environment()
        config_path = config or env.config_path
        self.config: dict = launch.read_config(config_path, _config_schema()) if config_path else {}
        chosen = self.config.get("strategy", {})
        training = self.config.get("training", {})
        if "name" in chosen:
            strategy, params = chosen["name"], chosen.get("params", {})
        elif "params" in chosen:
            params = chosen["params"]

        self.model = model
        self.tasks = list(tasks)
        self.optimizer = optimizer
        self.on_evaluate = on_evaluate
        self.on_checkpoint = on_checkpoint
        self.eval_every = training.get("evalEvery", eval_every)
        self.clip_norm = float(training.get("clipNorm", clip_norm))
        self.max_steps = training.get("maxSteps", max_steps)
        self.max_non_finite_steps = max_non_finite_steps
        self.step = 0
        self.epoch = 0.0
        self.stop_requested = False
        self._done_reason = "completed"
        self._failure: str | None = None
        self._non_finite_streak = 0
        self._report: BalanceReport | None = None
        self._last_boundary: float | None = None
        self._started = time.monotonic()
        self._latest: dict[str, dict] = {}
        self._best_auc: float | None = None
        self._best_step = 0
        self._closed = False

        self.rank, world_size, dist_backend = _distributed(process_group)
        group = {"process_group": process_group} if process_group is not None else {}
        self.balancer = Balancer(model, shared=shared, tasks=self.tasks, strategy=strategy, params=params, towers=towers, **group)
        for key, group_key in (("learningRate", "lr"), ("l2", "weight_decay")):
            if key in training and optimizer is not None:
                self.set_hyperparameter(group_key, training[key])
        self._boundary = Boundary(self, _control_group(world_size))

        self.run_dir: str | None = None
        self.link: TrainerLink | None = None
        if self.rank != 0:
            if (env.stdio if stdio is None else stdio):
                # Under torchrun every rank writes to the same stdout, which the host reads as
                # the link: only rank 0 speaks there, the others' prints go to stderr.
                sys.stdout.flush()
                os.dup2(2, 1)
            return
        run_name = self.config.get("name") or name or _script_name()
        if record:
            self.run_dir = create_run_dir(runs_folder or env.runs_folder or launch.DEFAULT_RUNS_FOLDER, run_name)
        stdio = env.stdio if stdio is None else stdio
        listen = (env.listen if env.listen is not None else not stdio) if listen is None else listen
        self.link = TrainerLink(self.run_dir, stdio=stdio, listen=listen and self.run_dir is not None)
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        self._send(_messages.hello(self.tasks, self.run_dir, device, world_size, dist_backend, __version__))
        resolved = self._resolved_config(run_name)
        self._send(message("config", config=resolved))
        if self.run_dir:
            write_json(os.path.join(self.run_dir, FILES["config"]), resolved)
        self._send(message("strategy-changed", step=0, name=self.balancer.strategy, params=dict(self.balancer.params), previous=None, reason="initial"))
        if self.link.server is not None and not stdio:
            print(
                f"gradcraft-studio: recording {self.run_dir}; VS Code can follow it with GradCraft: Attach to Running Trainer...",
                file=sys.stderr,
            )
        _track(self)
        self._restore_sigterm = _stop_on_sigterm()

    # --- the training loop's calls ---

    def backward(self, losses: Sequence[torch.Tensor] | torch.Tensor):
        """Per-task gradients, the Gram matrix and the strategy's weights; sets every ``.grad``."""
        if self._last_boundary is None:
            self._last_boundary = time.monotonic()
        report = self.balancer.backward(losses)
        if self.clip_norm > 0 and report.skipped is None:
            torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.grad is not None], self.clip_norm)
        self._report = report
        return report

    def end_step(self, epoch: float | None = None) -> bool:
        """Reports the step, then applies VS Code's commands. False once the run should stop."""
        if epoch is not None:
            self.epoch = float(epoch)
        report, self._report = self._report, None
        now = time.monotonic()
        step_ms = (now - (self._last_boundary or now)) * 1000
        self._last_boundary = now
        if report is not None:
            if report.skipped is not None:
                self._skipped(report)
            else:
                self._non_finite_streak = 0
                self.step += 1
                self._send(
                    _messages.step(
                        report,
                        step=self.step,
                        epoch=self.epoch,
                        wall_ms=self.wall_ms,
                        strategy=self.balancer.strategy,
                        learning_rate=self.hyperparameter("lr") or 0.0,
                        step_ms=step_ms,
                    )
                )
                if self.eval_every and self.on_evaluate and self.step % self.eval_every == 0:
                    self.run_evaluation("validation")
                if self.max_steps is not None and self.step >= self.max_steps:
                    self.request_stop("completed")
        if not self.stop_requested:
            self._boundary.run()
        self._last_boundary = time.monotonic()  # a pause is not part of the next step
        return not self.stop_requested

    def loop(self, loader: Iterable, epochs: int = 1) -> Iterator:
        """Yields the batches of ``epochs`` passes and ends each step (``end_step``) after its body."""
        for epoch in range(epochs):
            count = len(loader) if isinstance(loader, Sized) else None
            for index, batch in enumerate(loader):
                yield batch
                if not self.end_step(epoch + (index + 1) / count if count else epoch):
                    return

    def evaluate(self, split: str, probabilities: Any, labels: Any, users: Any = None) -> dict:
        """AUC, GAUC (with ``users``) and log loss per task of N×K probabilities; sent as ``eval``."""
        started = time.monotonic()
        metrics = evaluate_tasks(self.tasks, probabilities, labels, users)
        best = False
        if split == "validation" and metrics["mean"]["auc"] is not None:
            best = self._best_auc is None or metrics["mean"]["auc"] > self._best_auc
            if best:
                self._best_auc, self._best_step = metrics["mean"]["auc"], self.step
        self._latest[split] = metrics
        duration = (time.monotonic() - started) * 1000
        self._send(message("eval", split=split, step=self.step, epoch=self.epoch, **metrics, best=best, durationMs=duration))
        return metrics

    def run_evaluation(self, split: str) -> None:
        """Calls ``on_evaluate(split)`` and reports what it returns."""
        if self.on_evaluate is None:
            raise CommandRefused("this script gave Studio(...) no on_evaluate callback to evaluate with")
        result = self.on_evaluate(split)
        if self.rank == 0 and result is not None:
            self.evaluate(split, *result)

    def checkpoint(self, reason: str = "requested") -> str:
        """Writes ``checkpoints/step-N`` (complete before it appears) and reports it."""
        if self.rank != 0:
            return ""
        if self.run_dir is None:
            raise CommandRefused("this run has no run folder to write a checkpoint into")
        relative = f"{FILES['checkpoints']}/step-{self.step}"
        final = os.path.join(self.run_dir, relative)
        partial = os.path.join(self.run_dir, FILES["checkpoints"], f".partial-step-{self.step}")
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial)
        try:
            if self.on_checkpoint is not None:
                self.on_checkpoint(self.step, partial)
            else:
                state = {"step": self.step, "model": self.model.state_dict(), "balancer": self.balancer.state_dict()}
                if self.optimizer is not None:
                    state["optimizer"] = self.optimizer.state_dict()
                torch.save(state, os.path.join(partial, "checkpoint.pt"))
            shutil.rmtree(final, ignore_errors=True)
            os.replace(partial, final)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        self._send(message("checkpoint", step=self.step, path=relative, reason=reason))
        return relative

    def request_stop(self, reason: str = "stopped", why: str | None = None) -> None:
        """Ends the loop at this boundary (``end_step`` returns False); ``done`` says ``reason``."""
        self.stop_requested = True
        self._done_reason = reason
        if why:
            self._send(message("log", level="warn", message=why))

    def close(self, error: BaseException | None = None) -> None:
        """Writes ``summary.json`` and ``done``, then closes the link and the event log."""
        if self._closed:
            return
        self._closed = True
        if self in _open_studios:
            _open_studios.remove(self)
        if self.link is None:
            return
        self._restore_sigterm()
        reason = self._done_reason
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            reason = "stopped"
        elif error is not None:
            reason = "failed"
            detail = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            self._send(message("error", message=f"{type(error).__name__}: {error}", detail=detail, step=self.step, fatal=True))
        elif self._failure is not None:
            reason = "failed"
        summary = {"steps": self.step, "epochs": float(self.epoch), "wallMs": self.wall_ms, "strategy": self.balancer.strategy}
        if self._best_step > 0:
            summary["bestStep"] = self._best_step
        summary["splits"] = {split: metrics for split, metrics in self._latest.items()}
        try:
            if self.run_dir:
                write_json(os.path.join(self.run_dir, FILES["summary"]), summary)
            self._send(message("done", reason=reason, summary=summary))
        finally:
            self.link.close()

    def __enter__(self) -> "Studio":
        return self

    def __exit__(self, kind, error, trace) -> None:
        self.close(error)

    # --- state the commands read and change ---

    @property
    def wall_ms(self) -> float:
        return (time.monotonic() - self._started) * 1000

    def hyperparameter(self, key: str) -> float | None:
        """The optimizer's first param group's ``lr`` or ``weight_decay`` (None without an optimizer)."""
        if self.optimizer is None:
            return None
        return float(self.optimizer.param_groups[0].get(key, 0.0))

    def set_hyperparameter(self, key: str, value: float) -> None:
        """Sets ``lr`` or ``weight_decay``; other param groups keep their ratio to the first one."""
        if self.optimizer is None:
            raise CommandRefused(f"{key} cannot change: this script did not give Studio(...) its optimizer")
        groups = self.optimizer.param_groups
        reference = float(groups[0].get(key, 0.0))
        for group in groups:
            current = float(group.get(key, 0.0))
            group[key] = value if current == reference or reference <= 0 else value * (current / reference)

    def _send(self, msg: dict) -> None:
        if self.link is not None:
            self.link.send(msg)

    def _skipped(self, report) -> None:
        self._non_finite_streak += 1
        fatal = self._non_finite_streak >= self.max_non_finite_steps
        text = f"step {self.step + 1}: {report.skipped}; weights unchanged"
        if fatal:
            text += f"; {self._non_finite_streak} such steps in a row: stopping"
        fields = {"message": text, "step": self.step, "fatal": fatal}
        if report.skipped_task is not None:
            fields["task"] = int(report.skipped_task)
        self._send(message("error", **fields))
        if fatal:
            self._failure = f"training stopped after {self._non_finite_streak} consecutive non-finite steps ({report.skipped})"
            self.request_stop("failed")

    def _resolved_config(self, run_name: str) -> dict:
        """What the run uses, in the training config's shape: the file's fields, then the live values."""
        resolved = {key: value for key, value in self.config.items() if key != "$schema"}
        resolved["name"] = run_name
        resolved["strategy"] = {"name": self.balancer.strategy, "params": dict(self.balancer.params)}
        training = dict(resolved.get("training", {}))
        lr, l2 = self.hyperparameter("lr"), self.hyperparameter("weight_decay")
        if lr is not None and 0 < lr <= 1:
            training["learningRate"] = lr
        if l2 is not None:
            training["l2"] = l2
        training["clipNorm"] = self.clip_norm
        if self.eval_every:
            training["evalEvery"] = self.eval_every
        resolved["training"] = training
        resolved.setdefault("trainer", {"command": [sys.executable, *sys.argv]})
        return resolved


def _stop_on_sigterm() -> Callable[[], None]:
    """SIGTERM (what the extension sends when a trainer outlives its stop timeout, and what
    `timeout` and batch schedulers send) ends the script through SystemExit, so that `with` and
    exit handlers still write `done` and summary.json; a handler the script installed is kept."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return lambda: None

    def terminate(signum, frame) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)

    def restore() -> None:
        # Only the main thread may set a handler: a Studio closed from another thread leaves
        # ours (SIGTERM then still ends the script through SystemExit), and one the script
        # installed meanwhile is not ours to undo.
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is terminate:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    return restore


def _config_schema() -> dict:
    return definitions()["messages"]["config"]["properties"]["config"]


def _script_name() -> str:
    script = os.path.basename(sys.argv[0] or "") if sys.argv else ""
    return os.path.splitext(script)[0] or "run"


def _distributed(process_group: Any) -> tuple[int, int, str | None]:
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return 0, 1, None
    return dist.get_rank(process_group), dist.get_world_size(process_group), str(dist.get_backend(process_group))


def _control_group(world_size: int) -> Any:
    """A CPU (gloo) group for the commands, so broadcasting them never touches a GPU."""
    if world_size <= 1:
        return None
    import torch.distributed as dist

    return dist.new_group(backend="gloo")


# A script that ends without close() (no `with`) still leaves a complete run folder: at exit each
# open Studio is closed, as failed when an exception ended the script (sys.excepthook runs before
# atexit), so `done` and summary.json are always written.
_open_studios: list[Studio] = []
_uncaught: list[BaseException] = []


def _track(studio: Studio) -> None:
    if not getattr(sys.excepthook, "_gradcraft", False):
        previous = sys.excepthook

        def record(kind, error, trace) -> None:
            _uncaught.append(error)
            previous(kind, error, trace)

        record._gradcraft = True  # type: ignore[attr-defined]
        sys.excepthook = record
        atexit.register(_close_open_studios)
    _open_studios.append(studio)


def _close_open_studios() -> None:
    for studio in list(_open_studios):
        studio.close(_uncaught[-1] if _uncaught else None)
