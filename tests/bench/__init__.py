"""`make bench`: a performance report for booking, fan-out and login load (not a test)."""
