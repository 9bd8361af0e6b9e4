"""Runs a private gooseBit (PyPI) on 127.0.0.1 for the fleet tests.

usage: goosebit_server.py WORKDIR PORT

Everything (settings, SQLite database, artifacts) lives in WORKDIR. The schema is
created with Tortoise's generate_schemas (what `aerich upgrade` would do on a fresh
database), then uvicorn serves gooseBit's app on loopback only.
"""

import asyncio
import os
import pathlib
import sys

work = pathlib.Path(sys.argv[1]).resolve()
port = int(sys.argv[2])
settings = work / "goosebit.yaml"
settings.write_text(
    f"""port: {port}
poll_time: "00:00:01"
db_uri: "sqlite:///{work / 'db.sqlite3'}"
artifacts_dir: "{work / 'artifacts'}"
track_device_ip: false
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

uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
