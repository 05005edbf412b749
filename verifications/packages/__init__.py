"""The credential package builder: front matter rendered by WeasyPrint from a template, the
provider's accepted documents appended with pypdf (images become Letter pages), and one
outline (PDF bookmarks) over the whole file.

Pure with respect to the database: it takes a `PackageContent` (read by
verifications.selectors.packages.package_content) and returns bytes plus what it did.
"""

from verifications.packages.builder import BuiltPackage, build_package_pdf

__all__ = ["BuiltPackage", "build_package_pdf"]
