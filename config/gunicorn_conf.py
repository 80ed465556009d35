"""gunicorn's configuration for the site (``gunicorn -c python:config.gunicorn_conf``), what
`make run` (config.run) starts and what production should run: the address, port and number of
workers come on the command line, everything else is here.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from config.log_masking import SecretsFilter


class MaskingLogger(Logger):
    """gunicorn's logger with secrets masked in the access log and the error log: 1C appends
    ``sessid=…`` to every URL, Set-Cookie carries the exchange session, and gunicorn logs the raw
    request line when a request fails."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, SecretsFilter) for existing in log.filters):
                log.addFilter(SecretsFilter())


logger_class = "config.gunicorn_conf.MaskingLogger"
