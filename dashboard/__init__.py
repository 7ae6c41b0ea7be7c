"""riskmap Streamlit dashboard."""
