"""Knowledge services: load -> chunk -> index (Chroma + Japanese lexical index) -> hybrid search."""
