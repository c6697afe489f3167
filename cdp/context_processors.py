def workspace(request):
    current = getattr(request, "workspace", None)
    return {"workspace": current if current else None}
