"""Independent checking of data against a model (shares no code with engine/)."""
