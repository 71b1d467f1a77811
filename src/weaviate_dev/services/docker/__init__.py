"""Talk to Docker. Nothing else in the toolkit does.

`engine` connects to the Docker engine and `install` installs one where it is missing;
`local_images` looks up, pulls and removes images; `builds` builds images (`cross_build` for
another platform, through BuildKit); `containers` lists containers and finds the compose
command.
"""
