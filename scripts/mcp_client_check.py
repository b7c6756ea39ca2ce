"""Two agents, each with its own `coord mcp` server, driven by the official
Python MCP client over stdio: handshake, tool lists of both profiles,
start, claim and a refused claim, a message read once, an emergency acked.
Exits non-zero on the first broken expectation."""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

COORD, REPO = sys.argv[1], sys.argv[2]


def params(*args):
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return StdioServerParameters(command=COORD, args=["mcp", *args], env=env, cwd=REPO)


def check(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")
    print(f"ok   {what}")


def field(obj, *names):
    """The first attribute present: the SDK renamed camelCase to snake_case."""
    for n in names:
        if hasattr(obj, n):
            return getattr(obj, n)
    raise AttributeError(names)


def structured(r):
    return field(r, "structured_content", "structuredContent")


def is_error(r):
    return field(r, "is_error", "isError")


def text(result):
    return "".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def main():
    async with stdio_client(params("--tools", "minimal")) as (r, w):
        async with ClientSession(r, w) as s:
            await s.initialize()
            tools = await s.list_tools()
            names = sorted(t.name for t in tools.tools)
            size = len(json.dumps([t.model_dump(exclude_none=True) for t in tools.tools]))
            check(names == ["claim", "inbox", "release", "send"], f"minimal profile lists {names} ({size} bytes)")

    async with stdio_client(params()) as (ra, wa), stdio_client(params()) as (rb, wb):
        async with ClientSession(ra, wa) as a, ClientSession(rb, wb) as b:
            init = await a.initialize()
            await b.initialize()
            check(field(init, "server_info", "serverInfo").name == "coord", f"handshake: coord {field(init, 'server_info', 'serverInfo').version}, protocol {field(init, 'protocol_version', 'protocolVersion')}")
            tools = await a.list_tools()
            size = len(json.dumps([t.model_dump(exclude_none=True) for t in tools.tools]))
            check(len(tools.tools) == 11, f"full profile lists {len(tools.tools)} tools ({size} bytes)")

            r = await a.call_tool("start", {"name": "alice", "role": "backend"})
            check(not is_error(r) and structured(r)["session"]["id"] == "alice", "alice started")
            r = await b.call_tool("start", {"name": "bob"})
            check(not is_error(r) and structured(r)["session"]["id"] == "bob", "bob started")

            r = await a.call_tool("claim", {"type": "file", "name": "src/auth/**", "for": "2h"})
            check(not is_error(r) and structured(r)["outcome"] == "taken", f"alice claims: {text(r)}")
            r = await b.call_tool("claim", {"type": "file", "name": "src/auth/**"})
            check(is_error(r) and "alice" in text(r), f"bob is refused: {text(r)}")

            await b.call_tool("send", {"to": "alice", "subject": "need auth", "body": "ping me when done"})
            r = await a.call_tool("inbox", {})
            subjects = [m["subject"] for m in structured(r)["messages"]]
            check(subjects == ["need auth"], f"alice reads {subjects}")
            r = await a.call_tool("inbox", {})
            check(structured(r)["messages"] == [], "and only once")

            r = await b.call_tool("send", {"to": "alice", "subject": "stop the deploy", "level": "emergency"})
            mid = structured(r)["message"]["id"]
            r = await a.call_tool("status", {})
            check("stop the deploy" in text(r), "the emergency shows in alice's next result")
            r = await a.call_tool("ack", {"id": mid, "resolve": True})
            check(not is_error(r), f"alice acknowledges it: {text(r)}")
            r = await a.call_tool("release", {"all": True})
            check(not is_error(r), f"alice releases: {text(r)}")
    print("all MCP client checks passed")


asyncio.run(main())
