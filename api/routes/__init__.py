"""One router per resource; routes are thin: parse → use case → schema."""
