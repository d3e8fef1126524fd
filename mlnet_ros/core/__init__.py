"""What every layer shares, in plain Python and numpy: the model configuration, the label set,
the text inputs (words, tokenizer, wordpiece windows), the result types, and the checkpoint files
and base-weight packages (found and checked, not loaded). Imports no other layer."""
