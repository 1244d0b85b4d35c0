namespace Sandbox.Native;

/// <summary>The sonames of every native library the appliance loads, in one place.</summary>
internal static class Libraries
{
    public const string X11 = "libX11.so.6";
    public const string Xext = "libXext.so.6";
    public const string Xfixes = "libXfixes.so.3";
    public const string Xtst = "libXtst.so.6";
    public const string Xdamage = "libXdamage.so.1";
    public const string Libc = "libc";
    /// <summary>libjpeg-turbo's TurboJPEG API (Debian libturbojpeg0); optional, for the live view stream.</summary>
    public const string TurboJpeg = "libturbojpeg.so.0";
}
