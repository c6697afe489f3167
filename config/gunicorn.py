"""gunicorn settings (`gunicorn -c config/gunicorn.py config.wsgi:application`): an access log whose lines
carry no OAuth code or state (config.logscrub)."""

from gunicorn.glogging import Logger

from config.logscrub import scrub

accesslog = "-"


class ScrubbingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # The request line, the query string, the full URL and the referer can each hold the code.
        for key in ("r", "q", "U", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = scrub(atoms[key])
        return atoms


logger_class = ScrubbingLogger
