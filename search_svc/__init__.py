"""search_svc: the talent catalog (candidates, jobs, applications) with vector, keyword and hybrid search."""
