"""Legacy Excel / CSV importers (issue 5)."""
