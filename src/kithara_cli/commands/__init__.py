"""Commands: wire the layers together for each CLI verb; no protocol logic lives here."""
