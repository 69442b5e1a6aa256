"""What plots draw: min/max decimation, overview pyramids, matplotlib figures for reports."""
