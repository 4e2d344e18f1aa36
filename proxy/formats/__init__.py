"""API formats by name. Adding a provider means adding one module here."""

from __future__ import annotations

from .anthropic import AnthropicFormat
from .azure import AzureFormat
from .base import ApiFormat
from .bedrock import BedrockFormat
from .gemini import GeminiFormat
from .openai import OpenAIFormat
from .vertex import VertexFormat

REGISTRY: dict[str, ApiFormat] = {
    "openai": OpenAIFormat(),
    "anthropic": AnthropicFormat(),
    "azure": AzureFormat(),
    "vertex": VertexFormat(),
    "bedrock": BedrockFormat(),
    "gemini": GeminiFormat(),
}


def get_format(name: str) -> ApiFormat:
    return REGISTRY[name]
