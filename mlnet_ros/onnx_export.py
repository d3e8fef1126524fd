"""Former path of the ONNX exporter: ``python -m mlnet_ros.onnx_export --model DIR`` keeps working."""
import sys

from mlnet_ros.cli.export import main

if __name__ == "__main__":
    sys.exit(main())
