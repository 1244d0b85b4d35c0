using System.Runtime.CompilerServices;

// Every native signature in native/ is blittable; no runtime marshalling stubs are generated or needed.
[assembly: DisableRuntimeMarshalling]
