"""pytest plugin entry point for mlexport parity assertions (filled in by the parity suite)."""
