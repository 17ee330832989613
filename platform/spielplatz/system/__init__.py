"""Process-level machinery: file-descriptor redirects, bounded reads and
atomic writes, memory-limit estimates.
"""
