"""Runs a private gooseBit (PyPI, pinned in xtask/src/main.rs) on 127.0.0.1 for the fleet tests.

usage: goosebit_server.py WORKDIR

Everything (settings, SQLite database, artifacts) lives in WORKDIR. The listening socket is
bound here to a free loopback port before gooseBit starts, and the port is printed as the
first line of stdout (no race between choosing a port and binding it). The schema is created
with Tortoise's generate_schemas (what `aerich upgrade` does on a fresh database), then
uvicorn serves gooseBit's app on that socket. gooseBit's own log goes to stderr, at WARNING.
"""

import asyncio
import os
import pathlib
import socket
import sys

work = pathlib.Path(sys.argv[1]).resolve()
work.mkdir(parents=True, exist_ok=True)
(work / "artifacts").mkdir(exist_ok=True)

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
sock.listen(128)
port = sock.getsockname()[1]

settings = work / "goosebit.yaml"
settings.write_text(
    f"""port: {port}
poll_time: "00:00:01"
db_uri: "sqlite:///{work / 'db.sqlite3'}"
artifacts_dir: "{work / 'artifacts'}"
track_device_ip: false
logging:
  version: 1
  handlers:
    console:
      class: logging.StreamHandler
      level: WARNING
  root:
    level: WARNING
    handlers: [console]
"""
)
os.environ["GOOSEBIT_SETTINGS"] = str(settings)

from tortoise import Tortoise  # noqa: E402

from goosebit.db.config import TORTOISE_CONF  # noqa: E402


async def create_schema() -> None:
    await Tortoise.init(config=TORTOISE_CONF)
    await Tortoise.generate_schemas()
    await Tortoise.close_connections()


asyncio.run(create_schema())

import uvicorn  # noqa: E402

from goosebit import app  # noqa: E402

print(port, flush=True)
server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
server.run(sockets=[sock])
