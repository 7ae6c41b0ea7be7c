"""Data for riskmap: real boundaries and gazetteer, the facts taken from the news seeds, and the demo scenario generator."""
