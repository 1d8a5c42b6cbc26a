"""The help desk settings area, open to super admins only.

One module per section (users, teams, pipelines, properties, the create form). Views parse
input, call a domain service and render; the reads only these pages need live in `queries`.
"""
