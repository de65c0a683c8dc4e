"""Provider adapters. Heavy dependencies are imported only when an adapter is used."""

from __future__ import annotations

from importlib import import_module

from evals.profiles import Profile
from providers.base import Provider

ADAPTERS = {
    "transformers": "providers.transformers:TransformersProvider",
    "openai": "providers.openai:OpenAIProvider",
    "scripted": "providers.scripted:ScriptedProvider",
}


def make_provider(profile: Profile) -> Provider:
    module_name, _, cls_name = ADAPTERS[profile.adapter].partition(":")
    cls = getattr(import_module(module_name), cls_name)
    return cls(profile)
