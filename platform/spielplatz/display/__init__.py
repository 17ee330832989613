"""What people see: rich tables, solution figures, learning curves, and the
atomic saving of figures.
"""
