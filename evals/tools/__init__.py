"""Tools for tool-assisted mode: python (sandboxed), calculator, search; the agent loop lives in
evals.tools.loop and the tool-call parser in evals.tools.parse."""

from evals.tools.base import Tool, ToolResult
from evals.tools.registry import TOOLS, get_tools
from evals.tools.sandbox import SandboxLimits

__all__ = ["TOOLS", "SandboxLimits", "Tool", "ToolResult", "get_tools"]
