"""The web interface (Swedish first, English as a switch), served by the same app."""
