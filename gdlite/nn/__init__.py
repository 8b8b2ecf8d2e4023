# gdlite.nn: neural-network modules and functions (the package's public
# names are defined by its own modules).
