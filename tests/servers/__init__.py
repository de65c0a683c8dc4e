"""Real local servers for the tests: a fault-injecting OpenAI endpoint and llama.cpp."""
