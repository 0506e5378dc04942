"""One module per source, same shape: find the year's files → read the real format → normalized frame.

Nothing here knows about Dagster, the warehouse or indicators (architecture: readers know formats).
"""
