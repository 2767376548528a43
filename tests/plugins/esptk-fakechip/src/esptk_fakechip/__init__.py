"""A chip that does not exist, packaged the way a third party would package a real one."""
