"""Command-line tools: mlnet_tag, mlnet_demo, mlnet_export, mlnet_bench."""
