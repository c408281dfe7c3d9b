"""`voxform review`: a static page to hear a change's items before and after it is paid for."""
