"""What every layer shares, in plain Python and numpy: the model configuration, the label set,
the text inputs (words, wordpiece windows) and the result types. Imports no other layer."""
