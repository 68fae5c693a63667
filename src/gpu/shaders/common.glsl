// placeholder
void main() {}
