"""In-process counters for Prometheus `/metrics` (no dependency; the HTTP server renders them)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Metrics:
    """Counters by name and label values."""

    counters: Counter[tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=Counter)
    help: dict[str, str] = field(default_factory=dict)

    def inc(self, name: str, help_text: str, **labels: str) -> None:
        """Add one to the counter `name` with these labels."""
        self.help.setdefault(name, help_text)
        self.counters[(name, tuple(sorted(labels.items())))] += 1

    def render(self) -> list[str]:
        """Prometheus text exposition lines."""
        lines: list[str] = []
        for name in sorted(self.help):
            lines += [f"# HELP {name} {self.help[name]}", f"# TYPE {name} counter"]
            for (metric, labels), value in sorted(self.counters.items()):
                if metric != name:
                    continue
                label_text = ",".join(f'{k}="{v}"' for k, v in labels)
                lines.append(f"{name}{{{label_text}}} {value}" if label_text else f"{name} {value}")
        return lines


METRICS = Metrics()
